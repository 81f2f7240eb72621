// The bundled extension (dist/extension.js) under a stub `vscode` module, against a fake server
// (always) and the real `copilot-ls` with a tiny model (when both are available).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installVscodeStub, Position, TextDocument, Uri, CancellationTokenSource, type VscodeStub } from './vscode-stub';

const ROOT = join(__dirname, '..', '..');
const FAKE_SERVER = join(ROOT, 'test', 'fixtures', 'fake-server.mjs');
const REPO = join(ROOT, '..', '..');

const stub: VscodeStub = installVscodeStub(ROOT);
// eslint-disable-next-line @typescript-eslint/no-var-requires
const extension = require(join(ROOT, 'dist', 'extension.js')) as {
  activate(context: { subscriptions: { dispose(): unknown }[] }): Promise<void>;
  deactivate(): Promise<void>;
};

const tmp = mkdtempSync(join(tmpdir(), 'copilot-ls-vscode-'));
const doc = new TextDocument(Uri.file(join(tmp, 'fib.py')), 'python', 1, 'def fibonacci(n):\n    \n');
stub.textDocuments.push(doc);

type Message = { pid: number; argv?: string[]; id?: number; method?: string; params?: any };

function messages(log: string): Message[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const find = (log: string, method: string, pid?: number) => () =>
  messages(log).find((m) => m.method === method && (pid === undefined || m.pid === pid));

function inlineProvider() {
  return stub.registrations.find((r) => r.kind === 'InlineCompletionItemProvider');
}

async function provideInline(line: number, character: number) {
  const provider = inlineProvider();
  assert.ok(provider, 'no inline completion provider registered');
  const token = new CancellationTokenSource().token;
  return provider.provider.provideInlineCompletionItems(
    doc,
    new Position(line, character),
    { triggerKind: 1, selectedCompletionInfo: undefined },
    token,
  );
}

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('extension with a fake server', () => {
  const log1 = join(tmp, 'server1.jsonl');
  const log2 = join(tmp, 'server2.jsonl');
  const context = { subscriptions: [] as { dispose(): unknown }[] };

  before(async () => {
    stub.presetSettings({
      'copilotLs.serverCommand': [process.execPath, FAKE_SERVER, log1, '--log-level', 'DEBUG'],
      'copilotLs.completion.maxTokens': 16,
      'copilotLs.model.nThreads': null,
    });
    await extension.activate(context);
  });

  it('starts the server command without adding --stdio', () => {
    assert.deepEqual(messages(log1)[0].argv, [log1, '--log-level', 'DEBUG']);
  });

  it('advertises inline completion and sends the user settings as initializationOptions', () => {
    const init = find(log1, 'initialize')();
    assert.ok(init);
    assert.deepEqual(init.params.capabilities.textDocument.inlineCompletion, { dynamicRegistration: true });
    assert.deepEqual(init.params.initializationOptions, { completion: { maxTokens: 16 }, model: { nThreads: null } });
  });

  it('registers an inline completion provider and the restart command', () => {
    const provider = inlineProvider();
    assert.ok(provider);
    assert.ok((provider.selector as { language: string }[]).some((f) => f.language === 'python'));
    assert.ok(stub.commands.has('copilotLs.restartServer'));
  });

  it('opens the document and gets ghost text through the provider', async () => {
    await waitFor('didOpen', find(log1, 'textDocument/didOpen'));
    const result = await provideInline(1, 4);
    assert.equal(result.items.length, 1);
    assert.equal(result.items[0].insertText, 'return fake(n)');
    assert.deepEqual({ ...result.items[0].range.start }, { line: 1, character: 4 });
    const request = find(log1, 'textDocument/inlineCompletion')();
    assert.ok(request);
    assert.deepEqual(request.params.position, { line: 1, character: 4 });
    assert.equal(request.params.textDocument.uri, doc.uri.toString());
  });

  it('chats about the selection: streams the chunks, returns the answer, applies the edit on request', async () => {
    stub.setActiveEditor({
      document: doc,
      selection: { isEmpty: false, start: new Position(0, 0), end: new Position(1, 4) },
    });
    stub.answers.input = 'What does it do?';
    stub.answers.choice = 'Apply';
    const answer = (await stub.commands.get('copilotLs.chat')!()) as { answer: string };
    assert.equal(answer.answer, 'It adds numbers.');
    const request = find(log1, 'workspace/executeCommand')();
    assert.ok(request);
    assert.deepEqual(request.params.arguments, [
      {
        question: 'What does it do?',
        uri: doc.uri.toString(),
        range: { start: { line: 0, character: 0 }, end: { line: 1, character: 4 } },
      },
    ]);
    const chat = stub.outputs.find((o) => o.name === 'copilot-ls chat');
    assert.ok(chat);
    assert.match(chat.lines.join(''), /> What does it do\?\nIt adds numbers\./);
    assert.equal(stub.appliedEdits.length, 1);
    assert.deepEqual((stub.appliedEdits[0] as { changes: Map<string, unknown[]> }).changes.size, 1);
    stub.setActiveEditor(undefined);
  });

  it('keeps the completion popup to ghost text unless copilotLs.completionItems is on', async () => {
    const popup = stub.registrations.find((r) => r.kind === 'CompletionItemProvider');
    assert.ok(popup);
    const ask = () =>
      popup.provider.provideCompletionItems(doc, new Position(1, 4), { triggerKind: 0 }, new CancellationTokenSource().token);
    assert.equal(await ask(), undefined);
    assert.equal(find(log1, 'textDocument/completion')(), undefined);
    stub.setSetting('copilotLs.completionItems', true);
    await ask();
    assert.ok(find(log1, 'textDocument/completion')());
  });

  it('sends the whole settings tree on a configuration change', async () => {
    stub.setSetting('copilotLs.completion.multiline', 'never');
    const note = await waitFor('didChangeConfiguration', find(log1, 'workspace/didChangeConfiguration'));
    assert.deepEqual(note.params, {
      settings: { copilotLs: { model: { nThreads: null }, completion: { maxTokens: 16, multiline: 'never' } } },
    });
  });

  it('restarts the server on "copilot-ls: Restart server"', async () => {
    const first = messages(log1)[0].pid;
    await stub.commands.get('copilotLs.restartServer')!();
    await waitFor('exit of the old server', find(log1, 'exit', first));
    const inits = messages(log1).filter((m) => m.method === 'initialize');
    assert.equal(inits.length, 2);
    assert.notEqual(inits[1].pid, first);
    assert.deepEqual(inits[1].params.initializationOptions.completion, { maxTokens: 16, multiline: 'never' });
  });

  it('restarts with the new command when copilotLs.serverCommand changes', async () => {
    stub.setSetting('copilotLs.serverCommand', [process.execPath, FAKE_SERVER, log2]);
    await waitFor('initialize of the new server', find(log2, 'initialize'));
    const pids = messages(log1).filter((m) => m.method === 'exit').length;
    assert.equal(pids, 2);
  });

  it('reports a bad copilotLs.serverCommand instead of failing', async () => {
    stub.setSetting('copilotLs.serverCommand', []);
    await waitFor('error message', () => stub.messages.find((m) => /non-empty array/.test(m.text)));
    stub.setSetting('copilotLs.serverCommand', [join(tmp, 'no-such-copilot-ls')]);
    await waitFor('error message', () => stub.messages.find((m) => /could not start the server/.test(m.text)));
  });

  it('stops the server on deactivate', async () => {
    stub.setSetting('copilotLs.serverCommand', [process.execPath, FAKE_SERVER, log2]);
    await waitFor('second server on log2', () => messages(log2).filter((m) => m.method === 'initialize').length === 2);
    await extension.deactivate();
    await waitFor('exit', () => messages(log2).filter((m) => m.method === 'exit').length === 2);
    context.subscriptions.forEach((d) => d.dispose());
    assert.equal(inlineProvider(), undefined);
    stub.presetSettings({ 'copilotLs.completion.multiline': 'auto' });
  });
});

// The real server, with a ~0.6 MB random-weight model written by the project's test fixture.
const server = spawnSync('copilot-ls', ['--version'], { encoding: 'utf8' });
const tinyModel = join(tmp, 'tiny.gguf');
const writeModel = server.error
  ? undefined
  : spawnSync(
      'python3',
      ['-c', `from pathlib import Path; from tests.fixtures.tiny_gguf import write_tiny_model; write_tiny_model(Path(${JSON.stringify(tinyModel)}), None)`],
      { cwd: REPO, encoding: 'utf8' },
    );
const skip = server.error
  ? 'copilot-ls is not on PATH'
  : writeModel?.status !== 0
    ? `cannot write a tiny model (tests/fixtures/tiny_gguf.py): ${writeModel?.stderr.trim().split('\n').pop()}`
    : false;

describe('extension with the real copilot-ls', { skip }, () => {
  const context = { subscriptions: [] as { dispose(): unknown }[] };

  before(async () => {
    stub.messages.length = 0;
    stub.presetSettings({
      'copilotLs.serverCommand': ['copilot-ls'],
      'copilotLs.model.path': tinyModel,
      'copilotLs.completion.maxTokens': 8,
      'copilotLs.completion.maxTokensSingleLine': 8,
    });
    await extension.activate(context);
  });

  after(async () => {
    await extension.deactivate();
    context.subscriptions.forEach((d) => d.dispose());
  });

  it('announces inline completion, so the client registers its provider', () => {
    assert.ok(inlineProvider());
  });

  it('announces code actions, so the client registers a code action provider', () => {
    assert.ok(stub.registrations.some((r) => r.kind === 'CodeActionsProvider'));
  });

  it('answers an inline completion request with ghost text', { timeout: 120000 }, async () => {
    const result = await provideInline(1, 4);
    assert.ok(result.items.length >= 1, 'no inline completion');
    assert.equal(typeof result.items[0].insertText, 'string');
    assert.ok(result.items[0].insertText.length > 0);
  });

  it('accepted every setting sent (no warning from the server)', () => {
    assert.deepEqual(stub.messages, []);
  });

  it('shows the server\'s warning about a bad value, sent on change', async () => {
    stub.setSetting('copilotLs.completion.maxTokens', 'many');
    const warning = await waitFor('warning', () => stub.messages.find((m) => /maxTokens/.test(m.text)));
    assert.equal(warning.level, 'warning');
    stub.setSetting('copilotLs.completion.maxTokens', 8);
  });
});
