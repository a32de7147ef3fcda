"""`codeai rules` and `codeai explain CODE`: the code registry in the terminal.

Both read `codeai_lang/diagnostics/codes.py` through the same renderer as docs/diagnostics.md,
so the terminal and the docs never disagree. Only light modules are imported at start-up.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from codeai_lang.cli import app
from codeai_lang.cli.language_cmds import EXIT_USAGE, SimpleFormat, fail
from codeai_lang.diagnostics import codes

if TYPE_CHECKING:
    from codeai_lang.output.rules_doc import DeprecationRow


def _deprecations() -> list[DeprecationRow]:
    from codeai_lang.output.rules_doc import deprecation_rows
    from codeai_lang.syntax.registry import default_registry

    return deprecation_rows(default_registry().deprecations)


@app.command()
def rules(
    output: Annotated[SimpleFormat, typer.Option("--output", "-o", help="text or json")] = SimpleFormat.text,
) -> None:
    """List every diagnostic code: severity, since which version, fix availability, title."""
    from codeai_lang.output.rules_doc import rule_json

    registered = list(codes.all_codes())
    if output is SimpleFormat.json:
        sys.stdout.write(json.dumps([rule_json(c) for c in registered], indent=2, ensure_ascii=False) + "\n")
        return
    width = max(len(c.name) for c in registered)
    for c in registered:
        dsl = f"DSL {c.dsl_since}+" if c.dsl_since else "any DSL"
        typer.echo(f"{c.code}  {c.severity.value:<7}  since {c.since:<6}  {dsl:<8}  fix {c.fix.value:<9}  "
                   f"{c.name:<{width}}  {c.title}")


@app.command()
def explain(
    code: Annotated[str, typer.Argument(help="A diagnostic code (CAI102) or a deprecation id (D4)")],
    output: Annotated[SimpleFormat, typer.Option("--output", "-o", help="text or json")] = SimpleFormat.text,
) -> None:
    """Print the documentation of one diagnostic code (as in docs/diagnostics.md)."""
    from codeai_lang.output.rules_doc import code_section, rule_json

    entry = codes.get(code)
    deprecations = _deprecations()
    if entry is None:
        dep = next((d for d in deprecations if d.id.upper() == code.strip().upper()), None)
        if dep is None:
            raise fail(f"unknown code '{code}' (`codeai rules` lists them)", EXIT_USAGE)
        entry = codes.CODES["CAI301"]
        deprecations = [dep]
    if output is SimpleFormat.json:
        sys.stdout.write(json.dumps(rule_json(entry), indent=2, ensure_ascii=False) + "\n")
        return
    sys.stdout.write(code_section(entry, deprecations, level=1))
