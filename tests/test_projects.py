"""Projects (projects.md): codeai.yaml, discovery, one namespace across files, the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from cli_runner import ROOT, run_codeai

from codeai_lang.analysis import semantic
from codeai_lang.analysis.project import ProjectAnalysis
from codeai_lang.analysis.validator import validate
from codeai_lang.diagnostics.model import apply_edits
from codeai_lang.files.project import find_root, parse_config, project_for

SCHEMA = json.loads((ROOT / "codeai_lang/output/schemas/validate-output.schema.json").read_text())

USERS = "#version 1.1\nentity User {\n    id: uuid, primary\n}\nevent user_created {\n    payload {\n        id: uuid\n    }\n}\n"
ORDERS = "#version 1.1\nentity Order {\n    id: uuid, primary\n    buyer: ref(User)\n}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def validate_json(*args: str, cwd: Path) -> tuple[int, dict]:
    result = run_codeai("validate", "--output", "json", *args, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    return result.returncode, doc


def codes(doc: dict, name: str) -> list[str]:
    [entry] = [f for f in doc["files"] if f["path"].endswith(name)]
    return [d["code"] for d in entry["diagnostics"]]


# -- discovery --------------------------------------------------------------------------------


def test_root_is_found_walking_up_and_nested_projects_are_their_own(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "", "a/b/x.cai": "", "a/sub/codeai.yaml": "", "a/sub/y.cai": "",
                     "a/sub/deep/z.cai": ""})
    assert find_root(tmp_path / "a" / "b" / "x.cai") == tmp_path.resolve()
    assert find_root(tmp_path / "a" / "sub" / "deep") == (tmp_path / "a" / "sub").resolve()
    outer = project_for(tmp_path / "a" / "b" / "x.cai")
    assert [p.name for p in outer.files()] == ["x.cai"]  # the nested project's files are not its
    inner = project_for(tmp_path / "a" / "sub" / "y.cai")
    assert sorted(p.name for p in inner.files()) == ["y.cai", "z.cai"]


def test_standalone_file_without_codeai_yaml(tmp_path: Path) -> None:
    write(tmp_path, {"x.cai": ""})
    project = project_for(tmp_path / "x.cai")
    assert project.standalone and project.files() == [tmp_path / "x.cai"]


def test_include_exclude_hidden_and_gitignore(tmp_path: Path) -> None:
    write(tmp_path, {
        ".git/HEAD": "", ".gitignore": "generated/\n*.tmp.cai\n",
        "app/codeai.yaml": 'include: ["src/**/*.cai", "extra.cai"]\nexclude: ["**/fixtures/**"]\n',
        "app/src/a.cai": "", "app/src/deep/b.cai": "", "app/src/fixtures/f.cai": "", "app/other/c.cai": "",
        "app/extra.cai": "", "app/src/generated/g.cai": "", "app/src/scratch.tmp.cai": "",
        "app/src/.hidden/h.cai": "", "app/src/sub/.gitignore": "local.cai\n", "app/src/sub/local.cai": "",
        "app/src/sub/kept.cai": "",
    })
    project = project_for(tmp_path / "app")
    got = sorted(p.relative_to(tmp_path / "app").as_posix() for p in project.files())
    assert got == ["extra.cai", "src/a.cai", "src/deep/b.cai", "src/sub/kept.cai"]


# -- codeai.yaml -------------------------------------------------------------------------------


def test_config_reads_every_key() -> None:
    cfg = parse_config('dsl_version: "1.1"\ninclude: ["src/**"]\nexclude: []\n'
                       'externals:\n  events: ["billing.*"]\n  integrations: [analytics]\n'
                       'rules:\n  CAI206: off\n  CAI301: error\n', ["1.0", "1.1"])
    assert cfg.diagnostics == []
    assert (cfg.dsl_version, cfg.include, cfg.exclude) == ("1.1", ["src/**"], [])
    assert cfg.externals == {"event": ["billing.*"], "integration": ["analytics"]}
    assert cfg.rules == {"CAI206": "off", "CAI301": "error"}


@pytest.mark.parametrize(("text", "line", "words"), [
    ("colour: blue\n", 1, "unknown key 'colour'"),
    ("include: src\n", 1, "expected a list of globs"),
    ("rules:\n  CAI206: loud\n", 2, "expected one of: error, warning, info, off"),
    ("rules:\n  W1: off\n", 2, "not a diagnostic code"),
    ('dsl_version: "9.9"\n', 1, "unknown DSL version '9.9'"),
    ("externals:\n  events: [1]\n", 2, "expected a glob string"),
    ("externals:\n  planets: []\n", 2, "unknown kind 'planets'"),
    ("include: [\n", 2, "not valid YAML"),
    ("- just\n- a list\n", 1, "must be a mapping"),
])
def test_config_problems_are_diagnostics_with_lines(text: str, line: int, words: str) -> None:
    cfg = parse_config(text, ["1.0", "1.1"])
    assert len(cfg.diagnostics) == 1
    d = cfg.diagnostics[0]
    assert d.code == "CAI601" and words in d.message
    assert text.count("\n", 0, d.start) + 1 == line


def test_malformed_codeai_yaml_is_reported_by_validate_not_a_traceback(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "rules: [CAI206]\nbogus: 1\n", "a.cai": USERS})
    result = run_codeai("validate", ".", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "codeai.yaml:1:8: error[CAI601] rules: expected a mapping" in result.stdout
    assert "codeai.yaml:2:1: error[CAI601] unknown key 'bogus'" in result.stdout


def test_init_writes_a_commented_file_and_never_overwrites(tmp_path: Path) -> None:
    first = run_codeai("init", str(tmp_path))
    assert first.returncode == 0
    text = (tmp_path / "codeai.yaml").read_text()
    assert text.count("#") > 10 and parse_config(text).diagnostics == []
    (tmp_path / "codeai.yaml").write_text("rules: {}\n")
    again = run_codeai("init", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert (tmp_path / "codeai.yaml").read_text() == "rules: {}\n"


# -- one namespace -------------------------------------------------------------------------------


def test_file_argument_is_checked_against_the_whole_project(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "", "users.cai": USERS, "orders.cai": ORDERS})
    code, doc = validate_json("orders.cai", cwd=tmp_path)
    assert code == 0 and [f["path"] for f in doc["files"]] == ["orders.cai"]
    assert doc["files"][0]["project"] == "."
    (tmp_path / "codeai.yaml").unlink()  # the same file standalone: today's strictness
    code, doc = validate_json("orders.cai", cwd=tmp_path)
    assert code == 1 and codes(doc, "orders.cai") == ["CAI202"] and doc["files"][0]["project"] is None


def test_duplicate_across_files_points_at_the_first(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "", "a.cai": USERS, "b.cai": "#version 1.1\n// again\nentity User {\n    id: uuid\n}\n"})
    code, doc = validate_json(".", cwd=tmp_path)
    assert code == 1 and codes(doc, "a.cai") == [] and codes(doc, "b.cai") == ["CAI101"]
    [diag] = [f for f in doc["files"] if f["path"].endswith("b.cai")][0]["diagnostics"]
    [rel] = diag["related"]
    assert Path(rel["path"]).name == "a.cai" and rel["range"]["start"]["line"] == 2
    assert rel["range"]["start"]["column"] == 8 and "first declared" in rel["message"]
    text = run_codeai("validate", ".", cwd=tmp_path).stdout
    assert "a.cai:2:8: note: 'User' is first declared in" in text


def test_unresolved_reference_offers_the_near_name_and_a_fix(tmp_path: Path) -> None:
    uses = '#version 1.1\non "user.created" { workflow "go" async }\nworkflow go {\n    trigger manual\n}\n'
    write(tmp_path, {"codeai.yaml": "", "users.cai": USERS, "uses.cai": uses})
    analysis = ProjectAnalysis()
    analysis.add_many({"users.cai": USERS, "uses.cai": uses})
    [d] = analysis.diagnostics("uses.cai")
    assert d.code == "CAI202" and "did you mean 'user_created'?" in d.message
    assert d.fix is not None
    fixed = apply_edits(uses, d.fix.edits)
    assert 'on "user_created"' in fixed
    analysis.add_many({"uses.cai": fixed})
    assert analysis.diagnostics("uses.cai") == []


def test_several_candidates_give_no_fix() -> None:
    analysis = ProjectAnalysis()
    decls = "#version 1.1\nentity Customer {\n    id: uuid\n}\nentity Customers {\n    id: uuid\n}\n"
    analysis.add_many({"a.cai": decls, "b.cai": "#version 1.1\nentity X {\n    c: ref(Custome)\n}\n"})
    [d] = analysis.diagnostics("b.cai")
    assert "'Customer' or 'Customers'" in d.message and d.fix is None


def test_externals_rules_dsl_version_and_empty(tmp_path: Path) -> None:
    write(tmp_path, {
        "codeai.yaml": 'dsl_version: "1.1"\nexternals:\n  events: ["billing.*"]\n  workflows: [payout]\n'
                       "rules:\n  CAI206: error\n  CAI301: off\n",
        "a.cai": 'on "billing.paid" { workflow "payout" async }\non "shipping.done" { workflow "payout" async }\n'
                 "job j {\n    colour: blue\n    timeout: \"10m\"\n}\n"
                 "endpoint DELETE /x/:id {\n    params {\n        id: uuid\n    }\n    returns: Empty\n}\n",
    })
    code, doc = validate_json(".", cwd=tmp_path)
    entry = doc["files"][0]
    assert (entry["dsl_version"], entry["version_source"]) == ("1.1", "project")
    got = [(d["code"], d["severity"], d["range"]["start"]["line"]) for d in entry["diagnostics"]]
    # billing.paid and payout are external; shipping.done is not; CAI206 raised; D4 (CAI301) off
    assert got == [("CAI202", "error", 2), ("CAI206", "error", 4)]


def test_script_names_cross_files_but_keep_declare_before_use_inside_one(tmp_path: Path) -> None:
    analysis = ProjectAnalysis()
    analysis.add_many({
        "lib.cai": "function twice(x) {\n    print(x)\n}\nvar base = 1\n",
        "main.cai": "twice(base)\ntwice(1, 2)\nlater()\nfunction later() {\n    print(1)\n}\n",
    })
    assert analysis.diagnostics("lib.cai") == []
    assert [d.code for d in analysis.diagnostics("main.cai")] == ["CAI105", "CAI103"]


def test_directory_argument_skips_excluded_files_but_an_explicit_file_is_checked(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": 'exclude: ["fixtures/**"]\n', "a.cai": USERS,
                     "fixtures/bad.cai": "entity {\n"})
    code, doc = validate_json(".", cwd=tmp_path)
    assert code == 0 and [Path(f["path"]).name for f in doc["files"]] == ["a.cai"]
    code, doc = validate_json("fixtures/bad.cai", cwd=tmp_path)
    assert code == 1 and codes(doc, "bad.cai")


def test_sarif_and_github_still_render_project_reports(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "", "a.cai": USERS, "b.cai": USERS})
    for fmt in ("sarif", "github"):
        result = run_codeai("validate", "--output", fmt, ".", cwd=tmp_path)
        assert result.returncode == 1 and "CAI101" in result.stdout


# -- symbols ---------------------------------------------------------------------------------------


def test_symbols_lists_the_projects_declarations(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "", "users.cai": USERS, "sub/orders.cai": ORDERS})
    result = run_codeai("symbols", "sub/orders.cai", "--output", "json", cwd=tmp_path)
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["project"] == "."
    rows = [(s["kind"], s["name"], s["path"], s["range"]["start"]["line"]) for s in doc["symbols"]]
    assert rows == [("entity", "Order", "sub/orders.cai", 2), ("entity", "User", "users.cai", 2),
                    ("event", "user_created", "users.cai", 5)]
    text = run_codeai("symbols", cwd=tmp_path).stdout
    assert "event        user_created  users.cai:5:7" in text


# -- the index -----------------------------------------------------------------------------------


def test_dependents_are_the_files_using_a_changed_name() -> None:
    index = semantic.ProjectIndex()  # full tables (occurrences), as the language server keeps them
    for key, text in {"users.cai": USERS, "orders.cai": ORDERS, "other.cai": "entity Z {\n    id: uuid\n}\n"}.items():
        index.set_file(key, validate(text).table)
    old = index.tables["users.cai"].keys()
    new = frozenset(k for k in old if k != (semantic.TYPES, "User")) | {(semantic.TYPES, "Person")}
    assert index.dependents("users.cai", old, new) == {"orders.cai"}
    assert index.dependents("users.cai", old, old) == set()
    assert index.tables["users.cai"]._used is None  # the edited file's own names are never walked
    decl = index.lookup(semantic.TYPES, "User")
    assert decl is not None
    assert [(p, o.is_decl) for p, o in index.references(decl)] == [("orders.cai", False), ("users.cai", True)]
    assert [d.name for d in index.symbol_search("usr")] == ["User", "user_created"]


# -- migrate-dsl against the project ------------------------------------------------------------

OLD_ORDERS = "#version 1.1\nentity Order {\n    id: uuid, primary_key\n    buyer: ref(User)\n}\n"


def test_migrate_dsl_migrates_a_file_that_only_makes_sense_in_its_project(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": "", "users.cai": USERS, "orders.cai": OLD_ORDERS})
    result = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", "orders.cai", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    migrated = (tmp_path / "orders.cai").read_text()
    assert "primary_key" not in migrated and "ref(User)" in migrated
    code, doc = validate_json(".", cwd=tmp_path)
    assert code == 0


def test_migrate_dsl_writes_nothing_the_project_rejects(tmp_path: Path) -> None:
    # b.cai declares User again: after migration it would still be a duplicate (CAI101) of
    # a.cai's, so the run refuses to write it — found only by checking against the project.
    b = "#version 1.1\nentity User {\n    id: uuid, primary_key\n}\n"
    write(tmp_path, {"codeai.yaml": "", "a.cai": USERS, "b.cai": b})
    result = run_codeai("migrate-dsl", "--to", "2.0", "--report", "json", "b.cai", cwd=tmp_path)
    assert result.returncode == 1
    [entry] = json.loads(result.stdout)["files"]
    assert "against the project" in entry["error"] and "CAI101" in entry["error"]
    assert not entry["written"] and (tmp_path / "b.cai").read_text() == b


def test_membership_follows_include_exclude_gitignore_and_nesting(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": 'exclude: ["fixtures/**"]\n', ".gitignore": "gen/\n", "a.cai": "",
                     "fixtures/f.cai": "", "gen/g.cai": "", "sub/codeai.yaml": "", "sub/s.cai": ""})
    project = project_for(tmp_path / "a.cai")
    assert project.contains(tmp_path / "a.cai")
    assert not project.contains(tmp_path / "fixtures" / "f.cai")
    assert not project.contains(tmp_path / "gen" / "g.cai")
    assert not project.contains(tmp_path / "sub" / "s.cai")


def test_external_functions_resolve_with_any_arity(tmp_path: Path) -> None:
    write(tmp_path, {"codeai.yaml": 'externals:\n  functions: ["sdk_*"]\n',
                     "a.cai": "sdk_send(1, 2)\nsdk_log()\nother(1)\n"})
    code, doc = validate_json(".", cwd=tmp_path)
    assert codes(doc, "a.cai") == ["CAI103"]  # only `other`: sdk_* are provided elsewhere


def test_resolver_matches_resolved_for_symlinked_files_and_folders(tmp_path: Path) -> None:
    from codeai_lang.files.project import Resolver, resolved

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.cai").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b.cai").symlink_to(tmp_path / "real" / "a.cai")
    resolve = Resolver()
    for p in [tmp_path / "link" / "a.cai", tmp_path / "real" / "b.cai", tmp_path / "link" / "b.cai",
              Path(os.path.relpath(tmp_path / "real" / "a.cai")), tmp_path / "real" / "missing.cai"]:
        assert resolve(p) == resolved(p), p
        assert resolve(p) == resolved(p)  # memoised: the same answer again
