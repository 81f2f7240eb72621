-- Drives headless Neovim through a copilot-ls completion, the way a user would, and writes what
-- happened to a JSON file. Run by tests/editors/test_neovim.py as
--   nvim --headless --clean -c 'luafile tests/editors/neovim_driver.lua'
-- with these environment variables:
--   COPILOT_LS_CONFIG   editor-configs/neovim/copilot-ls.lua (the shipped config)
--   COPILOT_LS_CMD      JSON list: the server command
--   COPILOT_LS_INIT     JSON object: initializationOptions
--   COPILOT_LS_FILE     the Python file to open
--   COPILOT_LS_LINE     0-based line whose end is the completion point
--   COPILOT_LS_OUT      JSON file to write
--   COPILOT_LS_TIMEOUT  seconds before giving up (default 120)
--
-- Steps: load the config, open the file, wait for the client to attach, send a raw
-- textDocument/completion (the items), then enter insert mode at the line end, trigger the
-- completion with the config's keymap, accept the first item with <C-n><C-y> (the buffer), and
-- ask the server for `copilot-ls.lastCompletion`.
-- The steps run from timers, so Neovim's event loop keeps serving the LSP client meanwhile.

local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/nvim_harness.lua')
local env, result, step, finish, poll = h.env, h.result, h.step, h.finish, h.poll
local bufnr, line = h.bufnr, h.line
result.filetype = vim.bo[bufnr].filetype
result.line_before = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, true)[1]

local client
local function accept()
  -- Insert mode at the end of the line, as if the user had typed there.
  vim.api.nvim_win_set_cursor(0, { line + 1, 0 })
  vim.api.nvim_feedkeys('A', 'n', false)
  poll('insert mode', function()
    return vim.api.nvim_get_mode().mode == 'i'
  end, function()
    result.cursor_before = vim.api.nvim_win_get_cursor(0)
    -- The config's manual-trigger keymap (remapped: 'm').
    vim.api.nvim_feedkeys(vim.keycode('<C-Space>'), 'm', false)
    poll('popup menu', function()
      return vim.fn.pumvisible() == 1
    end, function()
      result.popup = vim.tbl_map(function(item)
        return { word = item.word, abbr = item.abbr }
      end, vim.fn.complete_info({ 'items' }).items)
      vim.api.nvim_create_autocmd('CompleteDone', {
        once = true,
        callback = function()
          result.complete_done_reason = vim.v.event.reason
          result.completed_item_word = vim.v.completed_item.word
          -- on_complete_done of vim.lsp.completion runs in its own CompleteDone autocmd;
          -- let it (and anything it schedules) finish before reading the buffer.
          vim.defer_fn(function()
            step('accepted')
            result.buffer = vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)
            result.line_after = result.buffer[line + 1]
            result.cursor_after = vim.api.nvim_win_get_cursor(0)
            vim.cmd.stopinsert()
            -- What the server did, through its custom command. No `arguments`: with
            -- `arguments = {}` (sent as []) the server answers InvalidParams, because pygls
            -- then evaluates the handler's type hints and `CopilotServer` is only imported
            -- under TYPE_CHECKING in copilot_ls/features/inspect.py.
            client:request('workspace/executeCommand', {
              command = 'copilot-ls.lastCompletion',
            }, function(err, last)
              result.last_completion_error = err
              result.last_completion = last
              finish(nil)
            end, bufnr)
          end, 300)
        end,
      })
      vim.api.nvim_feedkeys(vim.keycode('<C-n><C-y>'), 'n', false)
    end)
  end)
end

poll('attach', function()
  client = vim.lsp.get_clients({ bufnr = bufnr, name = 'copilot_ls' })[1]
  return client ~= nil and client.initialized == true
end, function()
  result.attached = true
  result.client = {
    name = client.name,
    root_dir = client.root_dir,
    init_options = client.config.init_options,
    trigger_characters = vim.tbl_get(
      client.server_capabilities,
      'completionProvider',
      'triggerCharacters'
    ),
    inline_completion_provider = client.server_capabilities.inlineCompletionProvider ~= nil,
  }
  result.has_inline_completion_module = vim.lsp.inline_completion ~= nil
  local text = result.line_before
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    position = { line = line, character = vim.str_utfindex(text, 'utf-16') },
    context = { triggerKind = 1 },
  }
  client:request('textDocument/completion', params, function(err, res)
    step('raw completion')
    result.raw_error = err
    result.raw = res
    accept()
  end, bufnr)
end)
