"""Semantic checks of the scripting core (CAI101–CAI108) and its scoping rules (§3)."""

from __future__ import annotations

import pytest

from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.positions import LineIndex


def located(text: str) -> list[tuple[str, int, int]]:
    index = LineIndex(text)
    return [(d.code, index.position(d.start).line, index.position(d.start).column)
            for d in validate(text).diagnostics]


def codes(text: str) -> list[str]:
    return [d.code for d in validate(text).diagnostics]


def test_clean_program() -> None:
    text = (
        "var items = [1, 2, 3]\n"
        "function total(xs, factor) {\n"
        "    var sum = 0\n"
        "    for x in xs { sum = x }\n"
        "    if factor { return_value(sum) } else { log(sum) }\n"
        "}\n"
        "function return_value(v) { print(v) }\n"
    )
    # return_value is called inside total before it is declared: CAI103 (declared before use).
    assert located(text) == [("CAI103", 5, 17)]
    assert codes(text.replace("function return_value(v) { print(v) }\n", "")
                 .replace("function total", "function return_value(v) { print(v) }\nfunction total")) == []


def test_duplicates_in_the_same_scope_only() -> None:
    assert located("var a = 1\nvar a = 2\n") == [("CAI101", 2, 5)]
    assert located("function f() { }\nfunction f() { }\n") == [("CAI101", 2, 10)]
    assert located("var a = 1\nfunction f() { var a = 2 }\n") == []  # shadowing in an inner scope
    assert located("var f = 1\nfunction f() { }\n") == [("CAI101", 2, 10)]


def test_undefined_variable_and_assignment_to_undeclared() -> None:
    assert located("var a = b\n") == [("CAI102", 1, 9)]
    assert located("c = 1\n") == [("CAI102", 1, 1)]
    assert "assignment to undeclared" in validate("c = 1\n").diagnostics[0].message


def test_block_scope_ends_with_the_block() -> None:
    text = "var c = true\nif c { var inner = 1 }\nvar after = inner\n"
    assert located(text) == [("CAI102", 3, 13)]


def test_loop_variable_lives_in_the_body_only() -> None:
    text = "for item in [1, 2] { log(item) }\nlog(item)\n"
    assert located(text) == [("CAI102", 2, 5)]


def test_parameters_live_in_the_body_only() -> None:
    assert located("function f(p) { log(p) }\nlog(p)\n") == [("CAI102", 2, 5)]


def test_names_are_visible_only_after_their_declaration() -> None:
    assert located("var a = b\nvar b = 1\n") == [("CAI102", 1, 9)]


def test_call_before_declaration_is_undefined_function() -> None:
    assert located("greet()\nfunction greet() { }\n") == [("CAI103", 1, 1)]
    assert located("function greet() { }\ngreet()\n") == []


def test_recursion_is_allowed() -> None:
    assert located("function loop(n) { loop(n) }\n") == []


def test_call_of_a_non_function() -> None:
    assert located("var x = 1\nx()\n") == [("CAI104", 2, 1)]
    assert located("function f(p) { p(1) }\n") == [("CAI104", 1, 17)]


def test_wrong_number_of_arguments() -> None:
    text = "function two(a, b) { }\ntwo(1)\ntwo(1, 2)\ntwo(1, 2, 3)\n"
    assert located(text) == [("CAI105", 2, 1), ("CAI105", 4, 1)]
    assert "takes 2 arguments, but 1 was given" in validate(text).diagnostics[0].message
    assert located("len()\nlen(1, 2)\nenv(\"A\", \"d\")\n") == [("CAI105", 1, 1), ("CAI105", 2, 1)]


@pytest.mark.parametrize("iterable", ['"text"', "42", "true", "s"])
def test_for_over_a_non_array(iterable: str) -> None:
    text = f'var s = "str"\nfor x in {iterable} {{ }}\n'
    assert located(text) == [("CAI106", 2, 10)]


def test_for_over_unknowns_and_arrays_is_fine() -> None:
    assert located("var a = [1]\nfor x in a { }\nfunction f(p) { for y in p { } }\n") == []


def test_reassignment_changes_what_the_variable_holds() -> None:
    assert located("var a = [1]\na = 5\nfor x in a { }\n") == [("CAI106", 3, 10)]


def test_duplicate_parameter() -> None:
    assert located("function f(a, b, a) { }\n") == [("CAI107", 1, 18)]


def test_assignment_to_a_function() -> None:
    assert located("function f() { }\nf = 1\n") == [("CAI108", 2, 1)]
    assert located("print = 1\n") == [("CAI108", 1, 1)]


def test_exec_interpolations_are_checked() -> None:
    text = 'var name = "x"\nexec { echo $name ${name} $missing {braces} }\n'
    assert located(text) == [("CAI102", 2, 27)]


def test_keywords_are_contextual() -> None:
    text = "var type = 1\nvar config = [type]\nfor entity in config { log(entity) }\nfunction in(event) { log(event) }\n"
    assert located(text) == []


def test_declarations_inside_functions_are_still_declarations() -> None:
    assert codes("function f() {\n  role admin { permissions: [\"x\"] }\n}\n") == []


def test_else_if_branches_each_have_their_own_scope() -> None:
    text = ("var n = 1\n"
            "if n { var a = 1 } else if n { var a = 2\n log(a) } else { log(a) }\n")
    assert located(text) == [("CAI102", 3, 22)]


def test_functions_declared_in_a_block_stay_in_it() -> None:
    text = "var on = true\nif on { function helper() { } helper() }\nhelper()\n"
    assert located(text) == [("CAI103", 3, 1)]


def test_inner_blocks_see_outer_names_and_may_assign_them() -> None:
    text = "var total = 0\nfunction add(x) { for i in [x] { total = i } }\nadd(total)\n"
    assert located(text) == []


def test_functions_see_globals_declared_before_them_only() -> None:
    text = "function f() { log(later) }\nvar later = 1\n"
    assert located(text) == [("CAI102", 1, 20)]


def test_mutual_recursion_needs_declaration_order() -> None:
    """§3: functions are declared before they are called, so `a` cannot call a later `b`."""
    text = "function a(n) { b(n) }\nfunction b(n) { a(n) }\n"
    assert located(text) == [("CAI103", 1, 17)]


def test_arity_is_checked_for_nested_and_recursive_calls() -> None:
    text = "function f(a, b) { f(a) }\nlog(f(1, 2), f(1))\n"
    assert located(text) == [("CAI105", 1, 20), ("CAI105", 2, 14)]


def test_duplicate_parameter_and_local_of_the_same_name() -> None:
    # A parameter lives in the body's scope (§3), so a local `var` of the same name duplicates it.
    assert located("function f(a) { var a = 1 }\n") == [("CAI101", 1, 21)]


def test_loop_variable_shadows_and_is_not_an_array() -> None:
    text = "var item = [1]\nfor item in item { for x in item { } }\n"
    assert located(text) == []
