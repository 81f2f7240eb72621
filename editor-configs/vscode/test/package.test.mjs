// package.json against settings.schema.json, the compiled config module, and the server.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildConfiguration, readJson, ROOT, settingPaths } from '../scripts/gen-config.mjs';

const require = createRequire(import.meta.url);
const config = require('../out/src/config.js');
const pkg = readJson('package.json');
const schema = readJson('settings.schema.json');
const properties = Object.assign({}, ...pkg.contributes.configuration.map((block) => block.properties));

describe('package.json', () => {
  it('has contributes.configuration in sync with settings.schema.json (else: npm run gen-config)', () => {
    assert.deepEqual(pkg.contributes.configuration, buildConfiguration(schema));
  });

  it('passes gen-config --check', () => {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-config.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('declares every server setting the extension sends, and only those besides its own', () => {
    const own = ['copilotLs.serverCommand', 'copilotLs.completionItems', 'copilotLs.trace.server'];
    const server = config.SETTING_PATHS.map((p) => `copilotLs.${p}`);
    assert.deepEqual(Object.keys(properties).sort(), [...own, ...server].sort());
    assert.deepEqual(config.SETTING_PATHS, settingPaths(schema));
  });

  it('has copilotLs.serverCommand, an array defaulting to ["copilot-ls"]', () => {
    const setting = properties['copilotLs.serverCommand'];
    assert.equal(setting.type, 'array');
    assert.deepEqual(setting.items, { type: 'string' });
    assert.deepEqual(setting.default, ['copilot-ls']);
    assert.deepEqual(setting.default, [...config.DEFAULT_SERVER_COMMAND]);
  });

  it('keeps nullable settings nullable and enums closed', () => {
    assert.deepEqual(properties['copilotLs.model.path'].type, ['string', 'null']);
    assert.equal(properties['copilotLs.model.path'].default, null);
    assert.deepEqual(properties['copilotLs.completion.multiline'].enum, ['auto', 'always', 'never']);
  });

  it('activates on the languages the client serves', () => {
    assert.deepEqual(pkg.activationEvents, config.LANGUAGES.map((l) => `onLanguage:${l}`));
  });

  it('contributes the restart and chat commands', () => {
    assert.deepEqual(pkg.contributes.commands, [
      { command: config.RESTART_COMMAND, title: 'Restart server', category: 'copilot-ls' },
      { command: 'copilotLs.chat', title: 'Chat about the code', category: 'copilot-ls' },
    ]);
  });

  it('restricts only settings that exist', () => {
    for (const key of pkg.capabilities.untrustedWorkspaces.restrictedConfigurations) {
      assert.ok(key in properties, key);
    }
  });

  it('uses vscode-languageclient 9.x and VS Code >= 1.86, and points main at the bundle', () => {
    assert.match(pkg.dependencies['vscode-languageclient'], /^\^9\./);
    assert.equal(require('vscode-languageclient/package.json').version.split('.')[0], '9');
    assert.equal(pkg.engines.vscode, '^1.86.0');
    assert.equal(pkg.main, './dist/extension.js');
    assert.ok(existsSync(join(ROOT, pkg.main)), 'run `npm run build` first');
  });
});

describe('gen-config', () => {
  it('rejects schema shapes it cannot map', () => {
    const wrap = (node) => ({ type: 'object', properties: { g: { type: 'object', properties: { k: node } } } });
    assert.throws(() => buildConfiguration(wrap({ type: 'array', items: {}, default: [] })), /unsupported schema keyword/);
    assert.throws(() => buildConfiguration(wrap({ anyOf: [{ type: 'string', minLength: 1 }], default: 'x' })), /anyOf/);
    assert.throws(() => buildConfiguration(wrap({ type: 'string' })), /no default/);
  });
});

const server = spawnSync('copilot-ls', ['schema'], { encoding: 'utf8' });
describe('settings.schema.json', () => {
  it('matches `copilot-ls schema`', { skip: server.error ? 'copilot-ls is not on PATH' : false }, () => {
    assert.equal(server.status, 0, server.stderr);
    assert.deepEqual(schema, JSON.parse(server.stdout), 'refresh: copilot-ls schema > settings.schema.json && npm run gen-config');
  });
});
