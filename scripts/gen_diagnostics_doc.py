"""Write docs/diagnostics.md from the code registry (`make docs`).

`--check` writes nothing and exits 1 when the file is out of date (tests/test_codes.py does
the same comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

from codeai_lang.files.atomic import atomic_write
from codeai_lang.output.rules_doc import deprecation_rows, render_markdown
from codeai_lang.syntax.registry import default_registry

DOC = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"


def main(argv: list[str]) -> int:
    text = render_markdown(deprecation_rows(default_registry().deprecations))
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if "--check" in argv:
        if current != text:
            print(f"{DOC} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        atomic_write(DOC, text)
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
