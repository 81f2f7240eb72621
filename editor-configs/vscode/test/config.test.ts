import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as config from '../src/config';

describe('parseServerCommand', () => {
  it('defaults to copilot-ls when unset', () => {
    assert.deepEqual(config.parseServerCommand(undefined), { command: 'copilot-ls', args: [] });
    assert.deepEqual(config.parseServerCommand(null), { command: 'copilot-ls', args: [] });
  });

  it('splits program and arguments', () => {
    assert.deepEqual(config.parseServerCommand(['/venv/bin/copilot-ls', '--log-file', '/tmp/ls.log']), {
      command: '/venv/bin/copilot-ls',
      args: ['--log-file', '/tmp/ls.log'],
    });
  });

  it('expands a leading ~/ of the program only', () => {
    assert.deepEqual(config.parseServerCommand(['~/venv/bin/copilot-ls', '~/x'], '/home/me'), {
      command: '/home/me/venv/bin/copilot-ls',
      args: ['~/x'],
    });
    assert.equal(config.parseServerCommand(['~/a']).command, '~/a');
    assert.equal(config.parseServerCommand(['~user/a'], '/home/me').command, '~user/a');
  });

  for (const bad of ['copilot-ls', [], [1], ['copilot-ls', 2], [''], ['  '], {}]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => config.parseServerCommand(bad), config.ConfigError);
    });
  }
});

describe('serverOptions', () => {
  it('runs the command over stdio without a transport (no --stdio argument appended)', () => {
    const options = config.serverOptions(['copilot-ls', '--log-level', 'DEBUG']);
    for (const executable of [options.run, options.debug]) {
      assert.equal(executable.command, 'copilot-ls');
      assert.deepEqual(executable.args, ['--log-level', 'DEBUG']);
      assert.equal(executable.transport, undefined);
    }
    assert.notEqual(options.run.args, options.debug.args);
  });

  it('throws ConfigError for a bad command', () => {
    assert.throws(() => config.serverOptions([]), config.ConfigError);
  });
});

describe('settingPaths', () => {
  it('lists the leaves of the bundled schema, in order', () => {
    assert.deepEqual(config.SETTING_PATHS, [
      'model.path', 'model.nCtx', 'model.nThreads', 'model.nGpuLayers', 'model.nBatch',
      'model.draftPath', 'model.stateCacheMib',
      'completion.enable', 'completion.maxPromptTokens', 'completion.contextTokens',
      'completion.suffixRatio',
      'completion.maxTokens', 'completion.maxTokensSingleLine', 'completion.multiline',
      'completion.temperature', 'completion.tokenHealing', 'completion.fim',
      'completion.speculative', 'completion.cache', 'completion.prefetch', 'index.watch',
      'actions.enable', 'actions.maxTokens', 'actions.maxCodeTokens',
      'chat.enable', 'chat.maxTokens', 'chat.historyTurns', 'chat.contextTokens',
    ]);
  });

  it('walks nested groups of any schema', () => {
    const schema = {
      type: 'object',
      properties: {
        top: { type: 'integer' },
        a: { type: 'object', properties: { b: { type: 'object', properties: { c: { type: 'string' } } } } },
      },
    };
    assert.deepEqual(config.settingPaths(schema), ['top', 'a.b.c']);
  });

  it('gives the top-level sections for affectsConfiguration', () => {
    assert.deepEqual(config.serverSections(), [
      'copilotLs.model', 'copilotLs.completion', 'copilotLs.index', 'copilotLs.actions',
      'copilotLs.chat',
    ]);
  });
});

describe('explicitValue', () => {
  it('is undefined when only the default applies', () => {
    assert.equal(config.explicitValue(undefined), undefined);
    assert.equal(config.explicitValue({}), undefined);
  });

  it('prefers folder over workspace over user settings', () => {
    assert.equal(config.explicitValue({ globalValue: 1 }), 1);
    assert.equal(config.explicitValue({ globalValue: 1, workspaceValue: 2 }), 2);
    assert.equal(config.explicitValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
  });

  it('treats null as a set value', () => {
    assert.equal(config.explicitValue({ globalValue: '/m.gguf', workspaceValue: null }), null);
  });
});

describe('initializationOptions', () => {
  it('is an empty tree when nothing is set', () => {
    assert.deepEqual(config.initializationOptions(() => undefined), {});
  });

  it('nests the set values in camelCase, leaving the rest to the server', () => {
    const user: Record<string, unknown> = {
      'completion.maxTokens': 32,
      'completion.multiline': 'never',
      'model.path': '/models/x.gguf',
      'model.nThreads': null,
    };
    assert.deepEqual(config.initializationOptions((p) => user[p]), {
      model: { path: '/models/x.gguf', nThreads: null },
      completion: { maxTokens: 32, multiline: 'never' },
    });
  });

  it('never sends extension-only settings', () => {
    const asked: string[] = [];
    const tree = config.initializationOptions((p) => {
      asked.push(p);
      return 'x';
    });
    assert.ok(!asked.some((p) => /^(serverCommand|completionItems|trace)/.test(p)));
    assert.deepEqual(Object.keys(tree), ['model', 'completion', 'index', 'actions', 'chat']);
  });

  it('wraps the tree in copilotLs for didChangeConfiguration', () => {
    assert.deepEqual(config.didChangeConfigurationParams({ completion: { enable: false } }), {
      settings: { copilotLs: { completion: { enable: false } } },
    });
  });
});

describe('documentSelector', () => {
  it('covers files and untitled buffers of every language', () => {
    const selector = config.documentSelector(['python', 'go']);
    assert.deepEqual(selector, [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
      { scheme: 'file', language: 'go' },
      { scheme: 'untitled', language: 'go' },
    ]);
    assert.equal(config.documentSelector().length, 2 * config.LANGUAGES.length);
  });
});
