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
--   * :CopilotChat {question} asks about the code at the cursor (or, with a range such as
--     :'<,'>CopilotChat, about those lines); the answer streams into a scratch split
--     ("copilot-ls chat"). /explain, /fix [problem], /tests, /doc run the code actions there;
--     /clear forgets the conversation. When the answer proposes an edit, you are asked whether
--     to apply it. `chat = false` in setup() leaves the command out.

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
  chat = true, -- the :CopilotChat command
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

-- Chat -------------------------------------------------------------------------------------
-- One scratch buffer holds the conversation; chunks of the answer (the server's
-- `copilot-ls/chatChunk` notifications) are appended as they arrive, and the command's result
-- (the whole answer) replaces them at the end, so the buffer shows the answer even if a chunk
-- was missed.

local chat = { buf = nil, win = nil, pending = false, id = nil, streamed = '', start = 0 }

local function chat_buffer()
  if not (chat.buf and vim.api.nvim_buf_is_valid(chat.buf)) then
    chat.buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(chat.buf, 'copilot-ls chat')
    vim.bo[chat.buf].filetype = 'markdown'
    vim.bo[chat.buf].bufhidden = 'hide'
  end
  return chat.buf
end

-- Show the chat buffer in a split below, unless a window shows it already.
local function chat_show()
  local buf = chat_buffer()
  if not (chat.win and vim.api.nvim_win_is_valid(chat.win)
      and vim.api.nvim_win_get_buf(chat.win) == buf) then
    chat.win = vim.api.nvim_open_win(buf, false, { split = 'below', win = -1, height = 12 })
    vim.wo[chat.win].wrap = true
    vim.wo[chat.win].linebreak = true
  end
  return buf
end

-- Append `text` to the end of the chat buffer (continuing its last line).
local function chat_append(text)
  local buf = chat_buffer()
  local lines = vim.split(text, '\n', { plain = true })
  local last = vim.api.nvim_buf_line_count(buf)
  local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, true)[1]
  lines[1] = tail .. lines[1]
  vim.api.nvim_buf_set_lines(buf, last - 1, last, true, lines)
  if chat.win and vim.api.nvim_win_is_valid(chat.win) then
    vim.api.nvim_win_set_cursor(chat.win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
end

-- `copilot-ls/chatChunk` {id, chunk, done}: the first id seen while a question runs is followed.
function M.on_chat_chunk(_, params)
  if type(params) ~= 'table' or type(params.chunk) ~= 'string' or not chat.pending then
    return
  end
  chat.id = chat.id or params.id
  if params.id == chat.id and params.chunk ~= '' then
    chat.streamed = chat.streamed .. params.chunk
    chat_append(params.chunk)
  end
end

local function show_result(client, err, result)
  chat.pending = false
  local buf = chat_buffer()
  if not err and type(result) ~= 'table' then
    err = { message = 'no answer' }
  end
  if err then
    chat_append('\n[copilot-ls: ' .. (err.message or vim.inspect(err)) .. ']\n')
    return
  end
  local answer = type(result.answer) == 'string' and result.answer or ''
  if answer ~= chat.streamed then -- replace what streamed with the whole answer
    local lines = vim.split(answer, '\n', { plain = true })
    vim.api.nvim_buf_set_lines(buf, chat.start, -1, false, lines)
  end
  if type(result.refused) == 'string' then
    chat_append('\n[no edit offered: ' .. result.refused .. ']')
  end
  chat_append('\n\n')
  if type(result.edits) == 'table' then
    vim.ui.select({ 'Apply', 'Skip' }, { prompt = 'copilot-ls: apply the proposed edit?' },
      function(choice)
        if choice == 'Apply' then
          vim.lsp.util.apply_workspace_edit(result.edits, client.offset_encoding)
        end
      end)
  end
end

-- The LSP range of lines line1..line2 (1-based, inclusive) of `bufnr`.
local function lines_range(bufnr, line1, line2)
  local count = vim.api.nvim_buf_line_count(bufnr)
  local finish = { line = line2, character = 0 }
  if line2 >= count then
    local text = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, true)[1]
    finish = { line = line2 - 1, character = #text }
  end
  return { start = { line = line1 - 1, character = 0 }, ['end'] = finish }
end

-- Ask `question` about the current buffer: lines line1..line2 when given, else the cursor.
function M.chat(question, line1, line2)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'copilot_ls' })[1]
  if not client then
    vim.notify('copilot-ls is not running for this buffer', vim.log.levels.WARN)
    return
  end
  local range
  if line1 then
    range = lines_range(bufnr, line1, line2)
  else
    local at = vim.lsp.util.make_position_params(0, client.offset_encoding).position
    range = { start = at, ['end'] = at }
  end
  local args = { question = question, uri = vim.uri_from_bufnr(bufnr), range = range }
  local buf = chat_show()
  local first = vim.api.nvim_buf_line_count(buf) == 1
    and vim.api.nvim_buf_get_lines(buf, 0, 1, true)[1] == ''
  vim.api.nvim_buf_set_lines(buf, first and 0 or -1, -1, false, { '> ' .. question, '' })
  chat.start = vim.api.nvim_buf_line_count(buf) - 1
  chat.pending, chat.id, chat.streamed = true, nil, ''
  client:request('workspace/executeCommand',
    { command = 'copilot-ls.chat', arguments = { args } },
    function(err, result) show_result(client, err, result) end, bufnr)
end

local function chat_command(cmd)
  local question = cmd.args
  if question == '' then
    question = vim.fn.input('copilot-ls chat: ')
    if question == '' then
      return
    end
  end
  if cmd.range > 0 then
    M.chat(question, cmd.line1, cmd.line2)
  else
    M.chat(question)
  end
end

function M.setup(user_opts)
  local opts = vim.tbl_deep_extend('force', M.defaults, { cmd = vim.g.copilot_ls_cmd }, user_opts or {})
  vim.lsp.config('copilot_ls', {
    cmd = opts.cmd,
    filetypes = opts.filetypes,
    root_markers = opts.root_markers,
    init_options = opts.init_options,
    handlers = { ['copilot-ls/chatChunk'] = M.on_chat_chunk },
  })
  if opts.chat then
    vim.api.nvim_create_user_command('CopilotChat', chat_command, {
      nargs = '*',
      range = true,
      desc = 'copilot-ls: ask about the code at the cursor or in the range (/explain /fix /tests /doc /clear)',
    })
  end
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
