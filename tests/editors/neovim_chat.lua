-- Drives headless Neovim through `:CopilotChat`, the way a user would, and writes what
-- happened to a JSON file. Run by tests/editors/test_neovim_chat.py as
--   nvim --headless --clean -c 'luafile tests/editors/neovim_chat.lua'
-- with the environment variables of neovim_driver.lua (COPILOT_LS_CONFIG, _CMD, _INIT, _FILE,
-- _LINE, _OUT, _TIMEOUT) and COPILOT_LS_QUESTION, the question to ask.
--
-- Steps: load the shipped config, open the file, wait for the client to attach, put the cursor
-- on COPILOT_LS_LINE, run `:CopilotChat <question>`, count the updates of the chat buffer while
-- the answer streams in, and wait until the answer is complete (the config then ends it with
-- two empty lines). An offered edit is recorded and declined.

local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/nvim_harness.lua')
local env, result, step, finish, poll = h.env, h.result, h.step, h.finish, h.poll
local bufnr, line = h.bufnr, h.line
local question = assert(env.COPILOT_LS_QUESTION)

vim.ui.select = function(items, opts, on_choice)
  result.offered = { items = items, prompt = opts.prompt }
  on_choice(nil) -- declined: the test checks the answer, not the edit
end

local function chat_lines()
  local buf = vim.fn.bufnr('copilot-ls chat')
  return buf > 0 and vim.api.nvim_buf_get_lines(buf, 0, -1, true) or {}
end

local function answered()
  local lines = chat_lines()
  return #lines >= 4 and lines[#lines] == '' and lines[#lines - 1] == ''
end

poll('attach', function()
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'copilot_ls' })[1]
  return client ~= nil and client.initialized == true
end, function()
  result.attached = true
  vim.api.nvim_win_set_cursor(0, { line + 1, 4 })
  vim.cmd('CopilotChat ' .. question)
  step('asked')
  local chat_buf = vim.fn.bufnr('copilot-ls chat')
  result.chat_buffer = chat_buf > 0
  result.updates = 0
  vim.api.nvim_buf_attach(chat_buf, false, {
    on_lines = function()
      result.updates = result.updates + 1
    end,
  })
  result.windows = #vim.api.nvim_tabpage_list_wins(0)
  poll('answer', answered, function()
    result.chat = chat_lines()
    result.source_unchanged = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, true), '\n')
    finish(nil)
  end)
end)
