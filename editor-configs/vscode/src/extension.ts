import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  State,
} from 'vscode-languageclient/node';
import { registerChat } from './chat';
import * as config from './config';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
// start/stop/restart run one after another, never interleaved.
let queue: Promise<void> = Promise.resolve();

function serialized(job: () => Promise<void>): Promise<void> {
  queue = queue.then(job, job);
  return queue;
}

/** The user's `copilotLs.*` server settings as the nested tree the server expects. */
export function currentSettings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration(config.SECTION);
  return config.initializationOptions((path) => config.explicitValue(cfg.inspect(path)));
}

/** A client for the current settings; inline completion registered (see below). */
export function createClient(channel: vscode.OutputChannel): LanguageClient {
  const cfg = vscode.workspace.getConfiguration(config.SECTION);
  const server = config.serverOptions(cfg.get(config.SERVER_COMMAND_KEY), os.homedir());
  const clientOptions: LanguageClientOptions = {
    documentSelector: config.documentSelector(),
    initializationOptions: () => currentSettings(),
    outputChannel: channel,
    middleware: {
      // VS Code shows the suggestion as ghost text already; the popup item is opt-in.
      provideCompletionItem: (document, position, context, token, next) =>
        vscode.workspace.getConfiguration(config.SECTION).get<boolean>(config.COMPLETION_ITEMS_KEY) === true
          ? next(document, position, context, token)
          : undefined,
    },
  };
  const created = new LanguageClient(config.SECTION, 'copilot-ls', server, clientOptions);
  // vscode-languageclient 9.x ships textDocument/inlineCompletion (LSP 3.18) among its
  // *proposed* features: without this call the client neither advertises the capability nor
  // registers an inline completion provider, and VS Code shows no ghost text.
  created.registerProposedFeatures();
  return created;
}

async function start(): Promise<void> {
  if (!output) return;
  let created: LanguageClient;
  try {
    created = createClient(output);
  } catch (err) {
    void vscode.window.showErrorMessage(`copilot-ls: ${(err as Error).message}`);
    return;
  }
  client = created;
  try {
    await created.start();
  } catch (err) {
    const argv = JSON.stringify(vscode.workspace.getConfiguration(config.SECTION).get(config.SERVER_COMMAND_KEY));
    output.appendLine(`copilot-ls: could not start ${argv}: ${(err as Error).message}`);
    void vscode.window
      .showErrorMessage(
        `copilot-ls: could not start the server ${argv}. Install it (\`pip install -e .\` in the copilot-ls checkout) or set ${config.SECTION}.${config.SERVER_COMMAND_KEY}.`,
        'Open Settings',
        'Show Output',
      )
      .then((choice) => {
        if (choice === 'Open Settings') {
          void vscode.commands.executeCommand('workbench.action.openSettings', `${config.SECTION}.${config.SERVER_COMMAND_KEY}`);
        } else if (choice === 'Show Output') {
          output?.show();
        }
      });
  }
}

async function stop(): Promise<void> {
  const old = client;
  client = undefined;
  if (!old) return;
  try {
    await old.dispose(2000);
  } catch (err) {
    output?.appendLine(`copilot-ls: stopping the server: ${(err as Error).message}`);
  }
}

export function restart(): Promise<void> {
  return serialized(async () => {
    await stop();
    await start();
  });
}

function onDidChangeConfiguration(event: vscode.ConfigurationChangeEvent): void {
  if (event.affectsConfiguration(`${config.SECTION}.${config.SERVER_COMMAND_KEY}`)) {
    void restart();
    return;
  }
  if (!config.serverSections().some((section) => event.affectsConfiguration(section))) return;
  void serialized(async () => {
    if (client?.state === State.Running) {
      await client.sendNotification(
        DidChangeConfigurationNotification.type,
        config.didChangeConfigurationParams(currentSettings()),
      );
    }
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('copilot-ls');
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand(config.RESTART_COMMAND, () => restart()),
    vscode.workspace.onDidChangeConfiguration(onDidChangeConfiguration),
    ...registerChat(() => (client?.state === State.Running ? client : undefined)),
  );
  await serialized(start);
}

export async function deactivate(): Promise<void> {
  await serialized(stop);
}
