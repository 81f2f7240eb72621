// Pure helpers of the extension: no `vscode` import here, so `node --test` can load this file
// without a VS Code host.

import type { Executable } from 'vscode-languageclient/node';
import schema from '../settings.schema.json';

/** Settings section; also the LanguageClient id, so `copilotLs.trace.server` works. */
export const SECTION = 'copilotLs';
export const SERVER_COMMAND_KEY = 'serverCommand';
/** Whether the popup also gets the suggestion (textDocument/completion); off by default. */
export const COMPLETION_ITEMS_KEY = 'completionItems';
export const DEFAULT_SERVER_COMMAND: readonly string[] = ['copilot-ls'];
export const RESTART_COMMAND = 'copilotLs.restartServer';

/** VS Code language ids the server is started for (package.json `activationEvents` match). */
export const LANGUAGES: readonly string[] = [
  'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust',
  'c', 'cpp', 'csharp', 'java', 'kotlin', 'scala', 'swift', 'ruby', 'php', 'lua', 'shellscript',
  'haskell', 'html', 'css', 'scss', 'sql', 'yaml', 'toml', 'json', 'jsonc', 'markdown',
];

export function documentSelector(languages: readonly string[] = LANGUAGES): { scheme: string; language: string }[] {
  return languages.flatMap((language) => [
    { scheme: 'file', language },
    { scheme: 'untitled', language },
  ]);
}

export class ConfigError extends Error {}

/**
 * `copilotLs.serverCommand` checked: a non-empty array of strings, program first. A leading `~/`
 * of the program is expanded with `home`. Throws ConfigError with a message for the user.
 */
export function parseServerCommand(value: unknown, home?: string): { command: string; args: string[] } {
  const argv = value === undefined || value === null ? DEFAULT_SERVER_COMMAND : value;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new ConfigError(
      `${SECTION}.${SERVER_COMMAND_KEY} must be a non-empty array of strings, like ["copilot-ls"]; got ${JSON.stringify(value)}`,
    );
  }
  let [command, ...args] = argv as string[];
  if (command.trim() === '') {
    throw new ConfigError(`${SECTION}.${SERVER_COMMAND_KEY}: the program (first element) is empty`);
  }
  if (home && (command === '~' || command.startsWith('~/'))) command = home + command.slice(1);
  return { command, args };
}

/**
 * How the LanguageClient starts the server. `transport` is left out on purpose: with
 * `TransportKind.stdio` vscode-languageclient appends `--stdio` to the arguments, which
 * `copilot-ls` does not accept; without it, the client still talks over stdin/stdout.
 */
export function serverOptions(value: unknown, home?: string): { run: Executable; debug: Executable } {
  const { command, args } = parseServerCommand(value, home);
  const executable: Executable = { command, args };
  return { run: executable, debug: { ...executable, args: [...args] } };
}

interface SchemaNode {
  type?: unknown;
  properties?: Record<string, SchemaNode>;
}

function isGroup(node: SchemaNode): boolean {
  return node.type === 'object' && typeof node.properties === 'object' && node.properties !== null;
}

/** Dotted paths of the server's settings (`model.path`, `completion.maxTokens`, ...). */
export function settingPaths(node: SchemaNode = schema as SchemaNode, prefix = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isGroup(child) ? settingPaths(child, path) : [path];
  });
}

export const SETTING_PATHS: readonly string[] = settingPaths();

/** Top-level server sections, for `affectsConfiguration` (`copilotLs.model`, ...). */
export function serverSections(paths: readonly string[] = SETTING_PATHS): string[] {
  return [...new Set(paths.map((p) => `${SECTION}.${p.split('.')[0]}`))];
}

/** What `WorkspaceConfiguration.inspect` returns, as far as used here. */
export interface Inspection {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * The value the user set (folder over workspace over user settings), or undefined when only the
 * default applies. `null` counts as set: it may override a value of a broader scope.
 */
export function explicitValue(inspection: Inspection | undefined): unknown {
  if (!inspection) return undefined;
  for (const v of [inspection.workspaceFolderValue, inspection.workspaceValue, inspection.globalValue]) {
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * The settings tree sent as `initializationOptions` (and in `didChangeConfiguration`): camelCase,
 * nested (`{"completion": {"maxTokens": 32}}`), holding only settings the user set, so the server's
 * own defaults apply to the rest. Extension-only settings (`serverCommand`, `completionItems`,
 * `trace`) stay out,
 * since the server warns about keys it does not know. `read(path)` gives the user's value of
 * `copilotLs.<path>`, or undefined.
 */
export function initializationOptions(
  read: (path: string) => unknown,
  paths: readonly string[] = SETTING_PATHS,
): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  for (const path of paths) {
    const value = read(path);
    if (value === undefined) continue;
    const parts = path.split('.');
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return tree;
}

/** `workspace/didChangeConfiguration` params: the whole tree again (the server replaces its settings). */
export function didChangeConfigurationParams(tree: Record<string, unknown>): { settings: Record<string, unknown> } {
  return { settings: { [SECTION]: tree } };
}
