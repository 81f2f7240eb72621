-- What both headless-Neovim drivers share: read the COPILOT_LS_* environment (see
-- neovim_driver.lua), load the shipped config, open the file, and give the driver a result
-- table, `step`, `finish` (writes the JSON file and quits) and `poll` (timer-driven waiting,
-- so Neovim's event loop keeps serving the LSP client meanwhile).
--   local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/nvim_harness.lua')

local env = vim.env
local out_path = assert(env.COPILOT_LS_OUT)
local timeout_ms = (tonumber(env.COPILOT_LS_TIMEOUT) or 120) * 1000
local started = vim.uv.hrtime()
local h = { env = env, result = { steps = {} } }
local result = h.result

local function elapsed()
  return (vim.uv.hrtime() - started) / 1e9
end

function h.step(name)
  table.insert(result.steps, { name = name, t = elapsed() })
end

function h.finish(err)
  result.error = err
  result.elapsed = elapsed()
  result.messages = vim.api.nvim_exec2('messages', { output = true }).output
  result.lsp_log = vim.lsp.get_log_path()
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qall!')
end

-- Run fn every 50 ms until it returns true, then `after`; give up at the global deadline.
function h.poll(what, fn, after)
  local timer = assert(vim.uv.new_timer())
  timer:start(0, 50, vim.schedule_wrap(function()
    if timer:is_closing() then
      return
    end
    local ok, done = pcall(fn)
    if not ok then
      timer:close()
      h.finish(what .. ': ' .. tostring(done))
    elseif done then
      timer:close()
      h.step(what)
      after()
    elseif elapsed() * 1000 > timeout_ms then
      timer:close()
      h.finish('timed out waiting for: ' .. what)
    end
  end))
end

vim.lsp.log.set_level('debug')
vim.g.copilot_ls_cmd = vim.json.decode(env.COPILOT_LS_CMD)
local config = dofile(env.COPILOT_LS_CONFIG)
config.setup({ init_options = vim.json.decode(env.COPILOT_LS_INIT) })
h.step('setup')

vim.cmd.edit(vim.fn.fnameescape(env.COPILOT_LS_FILE))
h.bufnr = vim.api.nvim_get_current_buf()
h.line = tonumber(env.COPILOT_LS_LINE)
return h
