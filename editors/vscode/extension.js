// CodeAI DSL for VS Code: starts `codeai lsp --stdio` for .cai files.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration('codeai');
  const command = config.get('server.path') || 'codeai';
  const serverOptions = {
    command,
    args: ['lsp', '--stdio'],
    transport: TransportKind.stdio,
  };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'codeai' }, { scheme: 'untitled', language: 'codeai' }],
    synchronize: { configurationSection: 'codeai' },
    initializationOptions: {
      defaultDslVersion: config.get('defaultDslVersion'),
      deprecationSeverity: config.get('deprecationSeverity'),
      diagnosticsDelayMs: config.get('diagnosticsDelayMs'),
    },
  };
  client = new LanguageClient('codeai', 'CodeAI Language Server', serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
