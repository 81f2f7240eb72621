// "copilot-ls: Chat": ask the server's `copilot-ls.chat` command about the code in the editor,
// stream its answer into an output channel, and offer the code it proposes as an edit.

import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient, type WorkspaceEdit } from 'vscode-languageclient/node';

export const CHAT_COMMAND = 'copilotLs.chat';
export const SERVER_CHAT_COMMAND = 'copilot-ls.chat';
export const CHUNK_NOTIFICATION = 'copilot-ls/chatChunk';

/** One streamed piece of an answer, as the server sends it. */
export interface ChatChunk {
  id: string;
  chunk: string;
  done: boolean;
}

/** The command's result. */
export interface ChatAnswer {
  id?: string;
  answer?: string;
  edits?: WorkspaceEdit;
  refused?: string;
}

/** Chunks for the one chat in flight; the first id seen while it runs is the one followed. */
class ChunkSink {
  private following: string | undefined;
  private active = false;

  constructor(private readonly write: (text: string) => void) {}

  begin(): void {
    this.active = true;
    this.following = undefined;
  }

  end(): void {
    this.active = false;
  }

  accept(chunk: ChatChunk): void {
    if (!this.active || typeof chunk?.chunk !== 'string') return;
    this.following ??= chunk.id;
    if (chunk.id === this.following) this.write(chunk.chunk);
  }
}

/** The arguments of `copilot-ls.chat` for a question about the active editor. */
export function chatArguments(question: string, editor: vscode.TextEditor | undefined): unknown[] {
  if (!editor) return [{ question }];
  const args: Record<string, unknown> = { question, uri: editor.document.uri.toString() };
  const selection = editor.selection;
  if (selection && !selection.isEmpty) {
    args.range = {
      start: { line: selection.start.line, character: selection.start.character },
      end: { line: selection.end.line, character: selection.end.character },
    };
  }
  return [args];
}

/** Register the chat command; `client()` is the running language client, if any. */
export function registerChat(client: () => LanguageClient | undefined): vscode.Disposable[] {
  const channel = vscode.window.createOutputChannel('copilot-ls chat');
  const sink = new ChunkSink((text) => channel.append(text));
  let listening: LanguageClient | undefined;

  async function chat(preset?: string): Promise<ChatAnswer | undefined> {
    const running = client();
    if (!running) {
      void vscode.window.showErrorMessage('copilot-ls: the server is not running');
      return undefined;
    }
    const question =
      preset ??
      (await vscode.window.showInputBox({
        prompt: 'Ask about the code (/explain, /fix, /tests, /doc act on the selection)',
      }));
    if (!question) return undefined;
    if (listening !== running) {
      running.onNotification(CHUNK_NOTIFICATION, (chunk: ChatChunk) => sink.accept(chunk));
      listening = running;
    }
    channel.show(true);
    channel.appendLine(`> ${question}`);
    sink.begin();
    try {
      const answer = (await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'copilot-ls chat', cancellable: true },
        (_progress, token) =>
          running.sendRequest(
            ExecuteCommandRequest.type,
            { command: SERVER_CHAT_COMMAND, arguments: chatArguments(question, vscode.window.activeTextEditor) },
            token,
          ),
      )) as ChatAnswer | null;
      channel.appendLine('');
      await offerEdit(running, answer ?? undefined);
      return answer ?? undefined;
    } catch (err) {
      channel.appendLine(`\n[copilot-ls: ${(err as Error).message}]`);
      return undefined;
    } finally {
      sink.end();
    }
  }

  async function offerEdit(running: LanguageClient, answer: ChatAnswer | undefined): Promise<void> {
    if (answer?.refused) channel.appendLine(`[no edit offered: ${answer.refused}]`);
    if (!answer?.edits) return;
    const choice = await vscode.window.showInformationMessage('copilot-ls: apply the proposed edit?', 'Apply');
    if (choice !== 'Apply') return;
    const edit = await running.protocol2CodeConverter.asWorkspaceEdit(answer.edits);
    await vscode.workspace.applyEdit(edit);
  }

  return [channel, vscode.commands.registerCommand(CHAT_COMMAND, chat)];
}
