#!/usr/bin/env node
// Writes `contributes.configuration` of package.json from settings.schema.json, a checked-in copy
// of `copilot-ls schema`. Refresh both after the server's settings change:
//
//   copilot-ls schema > settings.schema.json && node scripts/gen-config.mjs
//
// `node scripts/gen-config.mjs --check` only compares, and exits 1 when package.json is stale.
// `test/package.test.mjs` runs the same comparison under `npm test`.

import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SECTION = 'copilotLs';

/** Settings of the extension itself: never sent to the server. */
export const EXTENSION_PROPERTIES = {
  [`${SECTION}.serverCommand`]: {
    type: 'array',
    items: { type: 'string' },
    minItems: 1,
    default: ['copilot-ls'],
    scope: 'machine-overridable',
    markdownDescription:
      'Command that starts the server (stdio), as program and arguments, e.g. ' +
      '`["/path/to/venv/bin/copilot-ls", "--log-file", "/tmp/copilot-ls.log"]`. ' +
      'Changing it restarts the server.',
    order: 0,
  },
  [`${SECTION}.completionItems`]: {
    type: 'boolean',
    default: false,
    markdownDescription:
      'Also offer the suggestion as an item of the completion popup (the server\'s ' +
      '`textDocument/completion` fallback). Off: ghost text only, and no second model run per ' +
      'trigger character.',
    order: 1,
  },
  [`${SECTION}.trace.server`]: {
    type: 'string',
    enum: ['off', 'messages', 'verbose'],
    default: 'off',
    scope: 'window',
    markdownDescription: 'Log the LSP messages between VS Code and the server in the *copilot-ls* output channel.',
    order: 2,
  },
};

function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** VS Code's form of one leaf of the server's schema; throws on shapes it does not know. */
function leafProperty(node, path) {
  const out = {};
  if (Array.isArray(node.anyOf)) {
    const types = node.anyOf.map((arm) => {
      if (typeof arm.type !== 'string' || Object.keys(arm).length !== 1) {
        throw new Error(`${path}: unsupported anyOf arm ${JSON.stringify(arm)}`);
      }
      return arm.type;
    });
    out.type = types;
  } else if (Array.isArray(node.enum)) {
    const kinds = [...new Set(node.enum.map((v) => (v === null ? 'null' : typeof v)))];
    out.type = kinds.length === 1 ? kinds[0] : kinds;
    out.enum = node.enum;
  } else if (typeof node.type === 'string' || Array.isArray(node.type)) {
    out.type = node.type;
  } else {
    throw new Error(`${path}: no type in ${JSON.stringify(node)}`);
  }
  if (!('default' in node)) throw new Error(`${path}: no default`);
  out.default = node.default;
  if (node.description) out.markdownDescription = node.description;
  for (const key of Object.keys(node)) {
    if (!['anyOf', 'enum', 'type', 'default', 'description'].includes(key)) {
      throw new Error(`${path}: unsupported schema keyword ${JSON.stringify(key)}`);
    }
  }
  return out;
}

function isGroup(node) {
  return node && node.type === 'object' && node.properties && typeof node.properties === 'object';
}

/** Dotted paths of the schema's leaves, in schema order: `model.path`, `completion.maxTokens`, ... */
export function settingPaths(schema, prefix = '') {
  const paths = [];
  for (const [key, node] of Object.entries(schema.properties)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isGroup(node)) paths.push(...settingPaths(node, path));
    else paths.push(path);
  }
  return paths;
}

/** The `contributes.configuration` array: extension settings first, then one block per group. */
export function buildConfiguration(schema) {
  if (!isGroup(schema)) throw new Error('schema: expected an object with properties');
  const blocks = [{ title: 'copilot-ls', order: 0, properties: { ...EXTENSION_PROPERTIES } }];
  const loose = {};
  let order = 1;
  for (const [key, node] of Object.entries(schema.properties)) {
    if (!isGroup(node)) {
      loose[`${SECTION}.${key}`] = { ...leafProperty(node, key), order: 100 + Object.keys(loose).length };
      continue;
    }
    const properties = {};
    settingPaths(node, key).forEach((path, i) => {
      const leaf = path.split('.').reduce((n, part, j) => (j === 0 ? n : n.properties[part]), node);
      properties[`${SECTION}.${path}`] = { ...leafProperty(leaf, path), order: i };
    });
    blocks.push({ title: capitalize(key), order: order++, properties });
  }
  if (Object.keys(loose).length) Object.assign(blocks[0].properties, loose);
  return blocks;
}

export function readJson(name) {
  return JSON.parse(readFileSync(join(ROOT, name), 'utf8'));
}

/** package.json with its configuration block regenerated from settings.schema.json. */
export function regeneratedPackage() {
  const pkg = readJson('package.json');
  pkg.contributes = { ...pkg.contributes, configuration: buildConfiguration(readJson('settings.schema.json')) };
  return pkg;
}

function main(argv) {
  const pkg = regeneratedPackage();
  const text = JSON.stringify(pkg, null, 2) + '\n';
  const file = join(ROOT, 'package.json');
  const current = readFileSync(file, 'utf8');
  if (argv.includes('--check')) {
    if (current !== text) {
      console.error('package.json is out of sync with settings.schema.json: run `npm run gen-config`');
      process.exit(1);
    }
    console.log('package.json is in sync with settings.schema.json');
    return;
  }
  if (current !== text) writeFileSync(file, text);
  console.log(current !== text ? 'package.json updated' : 'package.json already up to date');
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  main(process.argv.slice(2));
}
