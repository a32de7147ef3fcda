-- CodeAI DSL (.cai) for Neovim >= 0.11: filetype detection and the `codeai lsp` server.
-- Put this file in ~/.config/nvim/plugin/ (or `dofile()` it from init.lua).

vim.filetype.add({ extension = { cai = 'codeai' } })

vim.lsp.config('codeai', {
  cmd = { 'codeai', 'lsp', '--stdio' },
  filetypes = { 'codeai' },
  root_markers = { 'codeai.yaml', '.git', 'pyproject.toml' },  -- codeai.yaml: a project root
  -- Read by the server at startup; the same keys are also served through
  -- workspace/configuration under the `codeai` section.
  init_options = {
    defaultDslVersion = nil,        -- e.g. '1.1': version for files without '#version'
    deprecationSeverity = 'warning', -- error | warning | information | hint
  },
  settings = {
    codeai = { deprecationSeverity = 'warning' },
  },
})

vim.lsp.enable('codeai')

-- Comment string for `gc` and friends.
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'codeai',
  callback = function() vim.bo.commentstring = '// %s' end,
})
