// HarmonLang for VS Code: the harmonc language server, and Build / Play / Watch in a terminal.
// Plain JavaScript (CommonJS), so the extension needs no build step.
'use strict';

const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

const LANGUAGE_ID = 'harmonlang';
/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;
/** @type {vscode.FileSystemWatcher | undefined} */
let circleFiles;

/** The harmonc executable: the `harmonlang.server.command` setting; a relative path is taken from the workspace. */
function harmoncCommand(uri) {
  const config = vscode.workspace.getConfiguration('harmonlang', uri);
  const command = (config.get('server.command') || 'harmonc').trim() || 'harmonc';
  if (path.isAbsolute(command) || !/[\\/]/.test(command)) {
    return command; // absolute, or a bare name looked up on PATH
  }
  const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) || (vscode.workspace.workspaceFolders || [])[0];
  return folder ? path.join(folder.uri.fsPath, command) : command;
}

/** The options `vscode-languageclient` starts the server with: `harmonc lsp` on stdio. */
function serverOptions() {
  const config = vscode.workspace.getConfiguration('harmonlang');
  const args = ['lsp', ...(config.get('server.args') || [])];
  const folder = (vscode.workspace.workspaceFolders || [])[0];
  const executable = { command: harmoncCommand(folder && folder.uri), args };
  if (folder) {
    executable.options = { cwd: folder.uri.fsPath };
  }
  return { run: executable, debug: executable };
}

function clientOptions() {
  return {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE_ID },
      { scheme: 'untitled', language: LANGUAGE_ID },
    ],
    synchronize: {
      // workspace/didChangeWatchedFiles for .circle files changed on disk (a song's imports)
      fileEvents: circleFiles,
    },
    // ... so the server need not register a watcher of its own (which would report every change twice)
    initializationOptions: { watchesFiles: true },
    outputChannel,
  };
}

async function startClient() {
  if (!vscode.workspace.getConfiguration('harmonlang').get('server.enabled', true)) {
    return;
  }
  const options = serverOptions();
  client = new LanguageClient(LANGUAGE_ID, 'HarmonLang Language Server', options, clientOptions());
  try {
    await client.start();
  } catch (error) {
    const command = options.run.command;
    client = undefined;
    const choice = await vscode.window.showErrorMessage(
      `HarmonLang: could not start the language server \`${command} lsp\` (${error && error.message ? error.message : error}). ` +
        'Install harmonlang (pip install -e .) or set "harmonlang.server.command" to the harmonc executable.',
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'harmonlang.server');
    }
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      // a server that never started cannot be stopped
    }
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** The .circle file a command acts on: the one clicked in the explorer, else the active editor's. */
async function targetFile(uri) {
  if (uri && uri.fsPath) {
    return uri;
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== LANGUAGE_ID) {
    vscode.window.showErrorMessage('HarmonLang: open a .circle file first.');
    return undefined;
  }
  if (editor.document.isUntitled) {
    vscode.window.showErrorMessage('HarmonLang: save the song to a .circle file first.');
    return undefined;
  }
  if (editor.document.isDirty) {
    await editor.document.save();
  }
  return editor.document.uri;
}

/** `harmonc SUBCOMMAND FILE ARGS...` in a terminal of its own, from the file's workspace folder. */
function runInTerminal(subcommand, extraArgs) {
  return async (uri) => {
    const file = await targetFile(uri);
    if (!file) {
      return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(file);
    const cwd = folder ? folder.uri.fsPath : path.dirname(file.fsPath);
    const terminal = vscode.window.createTerminal({
      name: `HarmonLang: ${subcommand} ${path.basename(file.fsPath)}`,
      shellPath: harmoncCommand(file),
      shellArgs: [subcommand, file.fsPath, ...extraArgs],
      cwd,
    });
    terminal.show();
    return terminal;
  };
}

/** Folding by braces, whatever the indentation (strings and comments skipped). */
const braceFolding = {
  provideFoldingRanges(document) {
    const ranges = [];
    const open = [];
    for (let line = 0; line < document.lineCount; line++) {
      const text = document.lineAt(line).text;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (inString) {
          inString = ch !== '"';
        } else if (ch === '"') {
          inString = true;
        } else if (ch === '#' && (i === 0 || /[\s;{}()]/.test(text[i - 1]))) {
          break;
        } else if (ch === '{') {
          open.push(line);
        } else if (ch === '}' && open.length) {
          const start = open.pop();
          if (line - 1 > start) {
            ranges.push(new vscode.FoldingRange(start, line - 1)); // the closing brace stays in view
          }
        }
      }
    }
    return ranges;
  },
};

async function activate(context) {
  outputChannel = vscode.window.createOutputChannel('HarmonLang Language Server');
  circleFiles = vscode.workspace.createFileSystemWatcher('**/*.circle');
  context.subscriptions.push(
    outputChannel,
    circleFiles,
    vscode.commands.registerCommand('harmonlang.build', runInTerminal('build', [])),
    vscode.commands.registerCommand('harmonlang.play', runInTerminal('play', [])),
    vscode.commands.registerCommand('harmonlang.watch', runInTerminal('watch', ['--play'])),
    vscode.commands.registerCommand('harmonlang.restartServer', restartClient),
    vscode.languages.registerFoldingRangeProvider({ language: LANGUAGE_ID }, braceFolding),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('harmonlang.server')) {
        restartClient();
      }
    }),
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
