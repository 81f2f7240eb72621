// A small stand-in for the `vscode` module, enough for vscode-languageclient to start a server,
// register its providers and run requests: no VS Code host runs in these tests. Install it with
// installVscodeStub() before the extension bundle is required.

import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Listener<T> = (event: T) => unknown;

export class Disposable {
  constructor(private fn?: () => unknown) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((item) => item?.dispose()));
  }
  dispose(): void {
    const fn = this.fn;
    this.fn = undefined;
    fn?.();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (listener: Listener<T>, thisArg?: unknown, disposables?: Disposable[]): Disposable => {
    const bound: Listener<T> = (e) => listener.call(thisArg, e);
    this.listeners.add(bound);
    const d = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(d);
    return d;
  };
  fire(event: T): void {
    for (const l of [...this.listeners]) l(event);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.slice(0, -1), url.host, decodeURIComponent(url.pathname), url.search.slice(1), url.hash.slice(1));
  }
  static file(path: string): Uri {
    return new Uri('file', '', path);
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: Partial<Record<'scheme' | 'authority' | 'path' | 'query' | 'fragment', string>>): Uri {
    return new Uri(
      change.scheme ?? this.scheme,
      change.authority ?? this.authority,
      change.path ?? this.path,
      change.query ?? this.query,
      change.fragment ?? this.fragment,
    );
  }
  toString(): string {
    const query = this.query ? `?${this.query}` : '';
    return `${this.scheme}://${this.authority}${encodeURI(this.path)}${query}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

export class Position {
  constructor(readonly line: number, readonly character: number) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(start: Position | number, end: Position | number, endLine?: number, endCharacter?: number) {
    if (typeof start === 'number') {
      this.start = new Position(start, end as number);
      this.end = new Position(endLine as number, endCharacter as number);
    } else {
      this.start = start;
      this.end = end as Position;
    }
  }
}

export class SnippetString {
  constructor(readonly value: string) {}
}

export class InlineCompletionItem {
  filterText?: string;
  constructor(readonly insertText: string | SnippetString, readonly range?: Range, readonly command?: unknown) {}
}

export class InlineCompletionList {
  constructor(readonly items: InlineCompletionItem[]) {}
}

export class CancellationError extends Error {}

/** Hierarchical code action kinds (`refactor.rewrite`), as the client converts the server's. */
/** The edits per document the client converts a server's `WorkspaceEdit` into. */
export class WorkspaceEdit {
  readonly changes = new Map<string, unknown[]>();
  set(uri: Uri, edits: unknown[]): void {
    this.changes.set(uri.toString(), edits);
  }
  entries(): [string, unknown[]][] {
    return [...this.changes.entries()];
  }
  get size(): number {
    return this.changes.size;
  }
}

export class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  static readonly Refactor = new CodeActionKind('refactor');
  static readonly RefactorExtract = new CodeActionKind('refactor.extract');
  static readonly RefactorInline = new CodeActionKind('refactor.inline');
  static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
  static readonly Source = new CodeActionKind('source');
  static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
  static readonly SourceFixAll = new CodeActionKind('source.fixAll');
  constructor(readonly value: string) {}
  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other: CodeActionKind): boolean {
    return !this.value || other.value === this.value || other.value.startsWith(`${this.value}.`);
  }
}

export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

/** A text document the stub "opens": what the client reads of it. */
export class TextDocument {
  readonly isClosed = false;
  readonly isDirty = false;
  readonly isUntitled = false;
  readonly eol = 1;
  constructor(readonly uri: Uri, readonly languageId: string, readonly version: number, private text: string) {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  getText(): string {
    return this.text;
  }
}

interface DocumentFilter {
  language?: string;
  scheme?: string;
}

function matches(selector: unknown, doc: TextDocument): number {
  const filters = (Array.isArray(selector) ? selector : [selector]) as (DocumentFilter | string)[];
  return filters.some((f) =>
    typeof f === 'string'
      ? f === doc.languageId
      : (!f.language || f.language === doc.languageId) && (!f.scheme || f.scheme === doc.uri.scheme),
  )
    ? 10
    : 0;
}

export interface Registration {
  kind: string;
  selector: unknown;
  provider: any;
}

/** The stub, plus what the tests drive and inspect. */
export function createVscodeStub(packageJson: any) {
  const defaults: Record<string, unknown> = {};
  for (const block of packageJson.contributes.configuration) {
    for (const [key, spec] of Object.entries<any>(block.properties)) defaults[key] = spec.default;
  }
  const userSettings: Record<string, unknown> = {};
  const events = {
    configuration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
    open: new EventEmitter<TextDocument>(),
  };
  const registrations: Registration[] = [];
  const appliedEdits: unknown[] = [];
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const messages: { level: string; text: string }[] = [];
  const outputs: { name: string; lines: string[] }[] = [];
  const textDocuments: TextDocument[] = [];
  const missing = new Set<string>();
  /** What `window.showInputBox` and `window.showInformationMessage` answer next. */
  const answers: { input?: string; choice?: string } = {};

  const event = () => new EventEmitter<any>().event;
  const message = (level: string) => (text: string) => {
    messages.push({ level, text });
    return Promise.resolve(undefined);
  };

  function getConfiguration(section?: string) {
    const prefix = section ? `${section}.` : '';
    return {
      get(key: string, fallback?: unknown) {
        const full = prefix + key;
        if (full in userSettings) return userSettings[full];
        if (full in defaults) return defaults[full];
        return fallback;
      },
      has(key: string) {
        return prefix + key in userSettings || prefix + key in defaults;
      },
      inspect(key: string) {
        const full = prefix + key;
        return { key: full, defaultValue: defaults[full], globalValue: userSettings[full] };
      },
      update() {
        return Promise.resolve();
      },
    };
  }

  const languages = new Proxy(
    {
      match: matches,
      createDiagnosticCollection: () => ({ set() {}, delete() {}, clear() {}, dispose() {} }),
    } as Record<string, unknown>,
    {
      get(target, name: string) {
        if (name in target) return target[name];
        if (name.startsWith('register')) {
          return (selector: unknown, provider: unknown) => {
            registrations.push({ kind: name.slice('register'.length), selector, provider });
            return new Disposable(() => {
              const i = registrations.findIndex((r) => r.provider === provider);
              if (i >= 0) registrations.splice(i, 1);
            });
          };
        }
        missing.add(`languages.${name}`);
        return undefined;
      },
    },
  );

  const api: Record<string, unknown> = {
    version: '1.86.0',
    Disposable, EventEmitter, Uri, Position, Range, SnippetString, InlineCompletionItem,
    InlineCompletionList, CancellationError, CancellationTokenSource, CodeActionKind, WorkspaceEdit,
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    TabInputText: class {}, TabInputTextDiff: class {}, TabInputCustom: class {}, TabInputNotebook: class {},
    env: { language: 'en', appName: 'vscode-stub', openExternal: () => Promise.resolve(false) },
    languages,
    commands: {
      registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
        commands.set(id, fn);
        return new Disposable(() => commands.delete(id));
      },
      executeCommand(id: string, ...args: unknown[]) {
        const fn = commands.get(id);
        return Promise.resolve(fn ? fn(...args) : undefined);
      },
    },
    window: {
      createOutputChannel(name: string) {
        const channel = { name, lines: [] as string[] };
        outputs.push(channel);
        return {
          name,
          append: (text: string) => channel.lines.push(text),
          appendLine: (text: string) => channel.lines.push(text + '\n'),
          replace: () => undefined,
          clear: () => undefined,
          show: () => undefined,
          hide: () => undefined,
          dispose: () => undefined,
        };
      },
      showErrorMessage: message('error'),
      showWarningMessage: message('warning'),
      showInformationMessage: (text: string) => {
        messages.push({ level: 'info', text });
        return Promise.resolve(answers.choice);
      },
      showInputBox: () => Promise.resolve(answers.input),
      withProgress: (_options: unknown, task: (p: unknown, t: unknown) => unknown) =>
        task({ report() {} }, new CancellationTokenSource().token),
      activeTextEditor: undefined,
      visibleTextEditors: [],
      onDidChangeActiveTextEditor: event(),
      onDidChangeVisibleTextEditors: event(),
      tabGroups: { all: [], onDidChangeTabs: event(), onDidChangeTabGroups: event() },
    },
    workspace: {
      workspaceFolders: undefined,
      textDocuments,
      notebookDocuments: [],
      getConfiguration,
      onDidChangeConfiguration: events.configuration.event,
      onDidOpenTextDocument: events.open.event,
      onDidCloseTextDocument: event(),
      onDidChangeTextDocument: event(),
      onDidSaveTextDocument: event(),
      onWillSaveTextDocument: event(),
      onDidChangeWorkspaceFolders: event(),
      onDidOpenNotebookDocument: event(),
      onDidCloseNotebookDocument: event(),
      onDidChangeNotebookDocument: event(),
      onDidSaveNotebookDocument: event(),
      createFileSystemWatcher: () => ({
        onDidCreate: event(), onDidChange: event(), onDidDelete: event(), dispose() {},
      }),
      applyEdit: (edit: unknown) => {
        appliedEdits.push(edit);
        return Promise.resolve(true);
      },
    },
  };

  // Anything else the client touches: classes it extends at load time (CompletionItem,
  // CodeLens, ...) become empty classes; other names stay undefined. All are noted in `missing`.
  const vscode = new Proxy(api, {
    get(target, name: string | symbol) {
      if (typeof name !== 'string' || name in target || name === 'then' || name === '__esModule') {
        return target[name as string];
      }
      missing.add(name);
      if (/^[A-Z]/.test(name)) {
        target[name] = class {
          constructor(...args: unknown[]) {
            Object.assign(this, { args });
          }
        };
        return target[name];
      }
      return undefined;
    },
  });

  return {
    vscode,
    registrations,
    commands,
    messages,
    outputs,
    textDocuments,
    missing,
    answers,
    appliedEdits,
    /** The editor `window.activeTextEditor` returns. */
    setActiveEditor(editor: unknown) {
      (api.window as Record<string, unknown>).activeTextEditor = editor;
    },
    /** Change a user setting (undefined removes it) and tell the extension, as VS Code does. */
    setSetting(key: string, value: unknown) {
      if (value === undefined) delete userSettings[key];
      else userSettings[key] = value;
      events.configuration.fire({
        affectsConfiguration: (section: string) => key === section || key.startsWith(`${section}.`),
      });
    },
    /** Set several user settings without firing an event (before activation). */
    presetSettings(values: Record<string, unknown>) {
      Object.assign(userSettings, values);
    },
  };
}

export type VscodeStub = ReturnType<typeof createVscodeStub>;

/** Make `require('vscode')` return the stub in this process. */
export function installVscodeStub(root: string): VscodeStub {
  const stub = createVscodeStub(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const resolve = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
  };
  (require.cache as Record<string, unknown>)['vscode'] = {
    id: 'vscode',
    filename: 'vscode',
    loaded: true,
    exports: stub.vscode,
  };
  return stub;
}
