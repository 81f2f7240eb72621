-- Drives headless Neovim through a copilot-ls code action, the way a user would, and writes
-- what happened to a JSON file. Run by tests/editors/test_neovim_code_actions.py as
--   nvim --headless --clean -c 'luafile tests/editors/neovim_code_action.lua'
-- with the environment variables of neovim_driver.lua (COPILOT_LS_CONFIG, _CMD, _INIT, _FILE,
-- _LINE, _OUT, _TIMEOUT) and COPILOT_LS_ACTION, the action to choose (its `data.action`).
--
-- Steps: load the shipped config, open the file, wait for the client to attach, put the cursor
-- on COPILOT_LS_LINE, list the code actions (raw textDocument/codeAction), then choose one with
-- vim.lsp.buf.code_action({ apply = true, filter = ... }) and wait for the buffer to change.

local env = vim.env
local out_path = assert(env.COPILOT_LS_OUT)
local timeout_ms = (tonumber(env.COPILOT_LS_TIMEOUT) or 120) * 1000
local wanted = assert(env.COPILOT_LS_ACTION)
local started = vim.uv.hrtime()
local result = { steps = {} }

local function elapsed()
  return (vim.uv.hrtime() - started) / 1e9
end

local function step(name)
  table.insert(result.steps, { name = name, t = elapsed() })
end

local function finish(err)
  result.error = err
  result.elapsed = elapsed()
  result.messages = vim.api.nvim_exec2('messages', { output = true }).output
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qall!')
end

local function poll(what, fn, after)
  local timer = assert(vim.uv.new_timer())
  timer:start(0, 50, vim.schedule_wrap(function()
    if timer:is_closing() then
      return
    end
    local ok, done = pcall(fn)
    if not ok then
      timer:close()
      finish(what .. ': ' .. tostring(done))
    elseif done then
      timer:close()
      step(what)
      after()
    elseif elapsed() * 1000 > timeout_ms then
      timer:close()
      finish('timed out waiting for: ' .. what)
    end
  end))
end

vim.lsp.log.set_level('debug')
vim.g.copilot_ls_cmd = vim.json.decode(env.COPILOT_LS_CMD)
local config = dofile(env.COPILOT_LS_CONFIG)
config.setup({ init_options = vim.json.decode(env.COPILOT_LS_INIT) })
step('setup')

vim.cmd.edit(vim.fn.fnameescape(env.COPILOT_LS_FILE))
local bufnr = vim.api.nvim_get_current_buf()
local line = tonumber(env.COPILOT_LS_LINE)
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
