-- Drives headless Neovim through a copilot-ls code action, the way a user would, and writes
-- what happened to a JSON file. Run by tests/editors/test_neovim_code_actions.py as
--   nvim --headless --clean -c 'luafile tests/editors/neovim_code_action.lua'
-- with the environment variables of neovim_driver.lua (COPILOT_LS_CONFIG, _CMD, _INIT, _FILE,
-- _LINE, _OUT, _TIMEOUT) and COPILOT_LS_ACTION, the action to choose (its `data.action`).
--
-- Steps: load the shipped config, open the file, wait for the client to attach, put the cursor
-- on COPILOT_LS_LINE, list the code actions (raw textDocument/codeAction), then choose one with
-- vim.lsp.buf.code_action({ apply = true, filter = ... }) and wait for the buffer to change.

local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/nvim_harness.lua')
local env, result, step, finish, poll = h.env, h.result, h.step, h.finish, h.poll
local bufnr, line = h.bufnr, h.line
local wanted = assert(env.COPILOT_LS_ACTION)
-- Messages the server shows (a refused action explains itself there).
vim.lsp.handlers['window/showMessage'] = function(_, params)
  result.shown = result.shown or {}
  table.insert(result.shown, params.message)
end

local function choose()
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return type(action.data) == 'table' and action.data.action == wanted
    end,
  })
  poll('buffer changed', function()
    return vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
  end, function()
    -- Let the rest of the workspace edit land before reading the buffer.
    vim.defer_fn(function()
      result.buffer = vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)
      finish(nil)
    end, 200)
  end)
end

poll('attach', function()
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'copilot_ls' })[1]
  return client ~= nil and client.initialized == true
end, function()
  result.attached = true
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'copilot_ls' })[1]
  result.code_action_provider = client.server_capabilities.codeActionProvider
  vim.api.nvim_win_set_cursor(0, { line + 1, 4 })
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { diagnostics = {}, triggerKind = 1 }
  client:request('textDocument/codeAction', params, function(err, actions)
    step('listed')
    result.list_error = err
    result.listed = vim.tbl_map(function(a)
      return { title = a.title, kind = a.kind, action = type(a.data) == 'table' and a.data.action }
    end, actions or {})
    choose()
  end, bufnr)
end)
