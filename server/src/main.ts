// The language server's entry (bundled to dist/server.js). The transport comes from the command line
// the client starts it with: `--stdio`, `--node-ipc` or `--socket=<port>` (vscode-languageserver).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));
