"""Shell syntax of `exec { … }` text (warning CAI204), with a real shell grammar.

The text between the braces is parsed by tree-sitter-bash; each syntax error (an ERROR or
MISSING node, outermost only) is reported at its position inside the shell text, converted
from tree-sitter's UTF-8 byte offsets to the document's character offsets. `$name`
interpolations are resolved by `script_checks` (CAI102), which knows the scopes.

A warning, not an error: the DSL does not run the shell. tree-sitter-bash rejects a little
valid bash (`then { echo ok; } fi`), so where `bash` is installed its `bash -n` (parse only)
confirms each error first; tree-sitter still gives the position.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from codeai_lang.diagnostics.model import Diagnostic, Severity
from codeai_lang.syntax import nodes as n

MAX_PER_BLOCK = 3  # later errors in one block are usually consequences of the first


@cache
def _parser() -> Any:
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def check_shell(statements: list[n.Node]) -> list[Diagnostic]:
    blocks = [s for s in n.iter_statements(statements) if isinstance(s, n.ExecBlock)]
    if not blocks:
        return []
    parser = _parser()
    out: list[Diagnostic] = []
    for block in blocks:
        data = block.shell.encode("utf-8")
        tree = parser.parse(data)
        if not tree.root_node.has_error or not _bash_rejects(block.shell):
            continue
        for found in list(_errors(tree.root_node))[:MAX_PER_BLOCK]:
            node = _offender(found)
            start = block.shell_start + _chars(data, node.start_byte)
            end = block.shell_start + _chars(data, node.end_byte)
            what = f"missing '{node.type}'" if node.is_missing else _unexpected(data, node)
            out.append(Diagnostic("CAI204", Severity.WARNING, f"shell syntax error in exec: {what}",
                                  start, max(end, start)))
    return out


def _bash_rejects(shell: str) -> bool:
    """Confirm a tree-sitter error with `bash -n` (parse only, nothing runs) where bash is
    installed: tree-sitter-bash rejects some valid text (`then { echo ok; } fi`)."""
    import shutil  # here: only a block tree-sitter rejects needs them (memory, start-up)
    import subprocess
    bash = shutil.which("bash")
    if bash is None:
        return True
    try:
        proc = subprocess.run([bash, "-n"], input=shell.encode("utf-8"), capture_output=True,
                              timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return True
    return proc.returncode != 0


def _errors(node: Any) -> Iterator[Any]:
    """Outermost ERROR/MISSING nodes, in order."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.is_error or cur.is_missing:
            yield cur
            continue
        if cur.has_error:
            stack.extend(reversed(cur.children))


_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "\n", ";;"})


def _offender(error: Any) -> Any:
    """The token to point at: an ERROR node holds what was parsed before the problem too
    (`echo a ; if then fi`), so its first keyword or bracket that is not a separator."""
    for child in error.children:
        if not child.is_named and child.type not in _SEPARATORS:
            return child
    return error


def _unexpected(data: bytes, node: Any) -> str:
    text = data[node.start_byte:node.end_byte].decode("utf-8", "replace").strip()
    first = text.split()[0] if text.split() else text
    return f"unexpected '{first[:40]}'" if first else "unexpected end of shell text"


def _chars(data: bytes, byte_offset: int) -> int:
    return len(data[:byte_offset].decode("utf-8", "replace"))


def shell_defined_names(shell: str) -> frozenset[str]:
    """Variables the shell text itself sets (`for f in …`, `x=1`, `export Y=2`): a `$f` of
    theirs is the shell's, not an interpolation of a DSL variable."""
    tree = _parser().parse(shell.encode("utf-8"))
    names: set[str] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        target = None
        if node.type == "for_statement":
            target = node.child_by_field_name("variable")
        elif node.type == "variable_assignment":
            target = node.child_by_field_name("name")
        if target is not None and target.text is not None:
            names.add(target.text.decode("utf-8", "replace"))
        stack.extend(node.children)
    return frozenset(names)


_SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "for", "in", "do", "done",
                             "while", "until", "case", "esac", "function", "select"})
_SHELL_CLASSES = {"string": "string", "raw_string": "string", "comment": "comment",
                  "number": "number", "variable_name": "variable", "command_name": "function"}


def shell_highlights(shell: str) -> list[tuple[int, int, str]]:
    """(start, end, class) character ranges of the shell text for editors: keywords,
    strings, comments, numbers, variables and command names (outermost match wins)."""
    data = shell.encode("utf-8")
    tree = _parser().parse(data)
    out: list[tuple[int, int, str]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        cls = _SHELL_CLASSES.get(node.type) or (
            "keyword" if not node.is_named and node.type in _SHELL_KEYWORDS else None)
        if cls is not None:
            out.append((_chars(data, node.start_byte), _chars(data, node.end_byte), cls))
            continue
        stack.extend(reversed(node.children))
    return out
