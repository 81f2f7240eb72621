-- copilot-ls for Neovim 0.11+ (built-in LSP client, no plugins).
--
-- Install, either way:
--   * require: copy this file to ~/.config/nvim/lua/copilot-ls.lua, then in init.lua
--       require('copilot-ls').setup()
--   * dofile: keep it anywhere and, in init.lua,
--       dofile('/path/to/copilot-ls.lua').setup()
--
-- setup() takes optional overrides (all keys optional):
--   require('copilot-ls').setup({
--     cmd = { 'copilot-ls', '--log-file', '/tmp/copilot-ls.log' },   -- default: vim.g.copilot_ls_cmd or { 'copilot-ls' }
--     filetypes = { 'python', 'lua' },
--     init_options = { completion = { maxTokens = 32 } },             -- copilot-ls settings, camelCase
--     keymap = '<C-Space>',                                           -- insert-mode key asking for a completion; false for none
--     completeopt = 'menuone,noselect,popup',                         -- buffer-local; false to leave yours alone
--   })
--
-- What you get:
--   * Neovim 0.11: the completion appears as an item in the popup menu (auto-triggered on the
--     server's trigger characters, or on demand with <C-Space>); <C-n>/<C-p> select, <C-y> accepts.
--   * Neovim 0.12+: additionally ghost text via textDocument/inlineCompletion; <Tab> accepts it.
--   (Some terminals send <C-Space> as <C-@>; pass another `keymap` if it does nothing.)

local M = {}

M.defaults = {
  cmd = { 'copilot-ls' },
  filetypes = {
    'python', 'lua', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact',
    'go', 'rust', 'c', 'cpp', 'java', 'kotlin', 'ruby', 'php', 'sh', 'bash', 'zsh',
    'cs', 'swift', 'scala', 'haskell', 'html', 'css', 'sql', 'yaml', 'toml', 'json', 'markdown',
  },
  root_markers = {
    '.git', 'pyproject.toml', 'setup.py', 'package.json', 'Cargo.toml', 'go.mod', 'Makefile',
  },
  -- Sent as initializationOptions (copilot-ls settings; `copilot-ls schema` lists them all).
  -- nil sends none: the server's defaults. Example: { completion = { maxTokens = 32 } }.
  -- Never pass an empty table: Neovim encodes {} as a JSON list.
  init_options = nil,
  keymap = '<C-Space>',
  completeopt = 'menuone,noselect,popup',
}

-- The server sends its suggestion as a snippet item replacing the line up to the cursor:
-- Neovim 0.11 inserts a plain-text item only up to its first whitespace, but expands a
-- snippet whole, several lines included.

local function on_attach(client, bufnr, opts)
  -- Completion items from textDocument/completion, in the popup menu (Neovim 0.11+).
  if opts.completeopt then
    vim.bo[bufnr].completeopt = opts.completeopt -- noselect: never insert before you choose
  end
  vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = true })

  -- Ghost text from textDocument/inlineCompletion: only Neovim 0.12+ has this module.
  local inline = vim.lsp.inline_completion
  local has_inline = inline ~= nil and inline.enable ~= nil
  if has_inline then
    inline.enable(true, { bufnr = bufnr })
    vim.keymap.set('i', '<Tab>', function()
      if not inline.get() then
        return '<Tab>'
      end
    end, { buffer = bufnr, expr = true, desc = 'copilot-ls: accept the inline completion' })
  end

  -- Ask for a completion now, as a popup item (ghost text, on 0.12+, comes as you type).
  if opts.keymap then
    vim.keymap.set('i', opts.keymap, vim.lsp.completion.get,
      { buffer = bufnr, desc = 'copilot-ls: request a completion' })
  end
end

function M.setup(user_opts)
  local opts = vim.tbl_deep_extend('force', M.defaults, { cmd = vim.g.copilot_ls_cmd }, user_opts or {})
  vim.lsp.config('copilot_ls', {
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = opts.init_options,
  })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('copilot_ls', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'copilot_ls' then
        on_attach(client, args.buf, opts)
      end
    end,
  })
  vim.lsp.enable('copilot_ls')
  return M
end

return M
