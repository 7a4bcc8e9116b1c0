// The Dockerfile language server driven over stdio by a real LSP client connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CodeActionRequest,
  CodeLensRequest,
  DidChangeConfigurationNotification,
  CompletionRequest,
  DocumentFormattingRequest,
  ExecuteCommandRequest,
  HoverRequest,
  type CodeAction,
  type CodeLens,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type Hover,
  type MarkupContent,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { BuildCacheHintsNotification, HostFactsNotification, ImageFactsNotification } from '../../../server/src/protocol';
import { LspSession, codes } from './lspSession';

let session: LspSession;

before(async () => {
  session = await LspSession.start();
});
after(async () => {
  await session.close();
});

const WINDOWS = [
  '# escape=`',
  'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
  'SHELL ["powershell", "-Command"]',
  'RUN Invoke-WebRequest https://example.invalid/app.zip -OutFile app.zip',
  'WORKDIR C:\\app',
  'COPY app.exe D:\\tools\\',
  '',
].join('\n');

function apply(text: string, edits: TextEdit[]): string {
  return TextDocument.applyEdits(TextDocument.create('x', 'dockerfile', 1, text), edits);
}

function editsOf(action: CodeAction, uri: string): TextEdit[] {
  return action.edit?.changes?.[uri] ?? [];
}

test('didOpen publishes Silo diagnostics with a code, a doc link and the library diagnostics beside them', async () => {
  const uri = 'file:///work/open/Dockerfile';
  const next = session.nextDiagnostics(uri);
  await session.open(uri, WINDOWS + 'maintainer me\n');
  const { diagnostics } = await next;
  assert.deepEqual(codes(diagnostics.filter((d) => d.source === 'silo')).sort(), ['SILO105', 'SILO108']);
  const copy = diagnostics.find((d) => d.code === 'SILO108')!;
  assert.deepEqual(copy.range, { start: { line: 5, character: 13 }, end: { line: 5, character: 22 } });
  assert.equal(copy.severity, 1);
  const href = copy.codeDescription?.href ?? '';
  assert.match(href, /^file:\/\/.*\/docs\/rules\/SILO108\.md$/);
  assert.ok(existsSync(fileURLToPath(href)), 'the linked rule page ships in the repository');
  // dockerfile-utils still reports what it knows (instruction casing, deprecated MAINTAINER).
  assert.ok(diagnostics.some((d) => d.source === 'dockerfile-utils'));
});

test('didChange re-checks the new text', async () => {
  const uri = 'file:///work/change/Dockerfile';
  let next = session.nextDiagnostics(uri);
  await session.open(uri, 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nRUN echo hi\n');
  assert.deepEqual(codes((await next).diagnostics), []);
  next = session.nextDiagnostics(uri, (p) => p.version === 2);
  await session.change(uri, 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nRUN powershell -Command Write-Host hi\n');
  const { diagnostics } = await next;
  assert.deepEqual(codes(diagnostics), ['SILO103']);
  assert.equal(diagnostics[0].range.start.line, 1);
});

test('a quick fix edits the text so the diagnostic goes away', async () => {
  const uri = 'file:///work/fix/Dockerfile';
  const text = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN ["C:\\tools\\setup.exe", "/quiet"]\n';
  let next = session.nextDiagnostics(uri);
  await session.open(uri, text);
  const diag = (await next).diagnostics.find((d) => d.code === 'SILO102') as Diagnostic;
  assert.ok(diag, 'SILO102 reported');
  const actions = (await session.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diag.range,
    context: { diagnostics: [diag] },
  })) as CodeAction[];
  assert.deepEqual(
    actions.map((a) => a.title),
    ['Double the backslashes', 'Use forward slashes', 'Skip SILO102 for this instruction', 'Skip SILO102 in this file'],
  );
  const doubled = apply(text, editsOf(actions[0], uri));
  assert.equal(doubled.split('\n')[1], 'RUN ["C:\\\\tools\\\\setup.exe", "/quiet"]');
  assert.deepEqual(JSON.parse(doubled.split('\n')[1].slice(4)), ['C:\\tools\\setup.exe', '/quiet']);
  const skipped = apply(text, editsOf(actions[2], uri));
  assert.equal(skipped.split('\n')[1], '# silo-ignore SILO102');

  next = session.nextDiagnostics(uri, (p) => p.version === 2);
  await session.change(uri, doubled);
  assert.deepEqual(codes((await next).diagnostics), []);
  next = session.nextDiagnostics(uri, (p) => p.version === 3);
  await session.change(uri, skipped);
  assert.deepEqual(codes((await next).diagnostics), []);
});

test('the library quick fixes and executeCommand still work', async () => {
  const uri = 'file:///work/library/Dockerfile';
  const text = 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nworkdir C:/app\n';
  const next = session.nextDiagnostics(uri);
  await session.open(uri, text);
  const diag = (await next).diagnostics.find((d) => d.source === 'dockerfile-utils')!;
  const actions = (await session.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diag.range,
    context: { diagnostics: [diag] },
  })) as CodeAction[];
  assert.equal(actions.length, 1);
  assert.equal(apply(text, editsOf(actions[0], uri)).split('\n')[1], 'WORKDIR C:/app');

  const before = session.appliedEdits.length;
  await session.connection.sendRequest(ExecuteCommandRequest.type, {
    command: 'docker.command.convertToUppercase',
    arguments: [uri, diag.range],
  });
  assert.equal(session.appliedEdits.length, before + 1);
  assert.equal(apply(text, session.appliedEdits[before].changes![uri]).split('\n')[1], 'WORKDIR C:/app');
});

test('completion, hover and formatting come from dockerfile-language-service', async () => {
  const uri = 'file:///work/generic/Dockerfile';
  const text = 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n   WORKDIR C:/app\nWOR';
  const next = session.nextDiagnostics(uri);
  await session.open(uri, text);
  await next;
  const completion = (await session.connection.sendRequest(CompletionRequest.type, {
    textDocument: { uri },
    position: { line: 2, character: 3 },
  })) as CompletionItem[] | CompletionList;
  const items = Array.isArray(completion) ? completion : completion.items;
  assert.ok(items.some((i) => i.label.startsWith('WORKDIR')), JSON.stringify(items.map((i) => i.label)));

  const hover = (await session.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 1, character: 5 } })) as Hover;
  assert.match((hover.contents as MarkupContent).value, /working directory/i);

  const edits = (await session.connection.sendRequest(DocumentFormattingRequest.type, {
    textDocument: { uri },
    options: { tabSize: 4, insertSpaces: true },
  })) as TextEdit[];
  assert.equal(apply(text, edits).split('\n')[1], 'WORKDIR C:/app');
});

test('host facts turn on the host check, and change it when they change', async () => {
  const uri = 'file:///work/host/Dockerfile';
  const text = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN echo hi\n';
  let next = session.nextDiagnostics(uri);
  await session.open(uri, text);
  assert.deepEqual(codes((await next).diagnostics), []);

  next = session.nextDiagnostics(uri, (p) => p.diagnostics.length > 0);
  await session.connection.sendNotification(HostFactsNotification.type, { os: 'linux', isolations: [], defaultIsolation: 'process' });
  let d = (await next).diagnostics;
  assert.deepEqual(codes(d), ['SILO111']);
  assert.match(String(d[0].message), /Windows image: build and run it on a Windows host/);

  // A Windows Server 2022 host runs ltsc2022 with process isolation: the diagnostic goes away.
  next = session.nextDiagnostics(uri, (p) => p.diagnostics.length === 0);
  await session.connection.sendNotification(HostFactsNotification.type, {
    os: 'windows',
    build: 20348,
    isolations: ['process', 'hyperv'],
    defaultIsolation: 'process',
  });
  assert.deepEqual(codes((await next).diagnostics), []);
});

test('a Windows host whose build only runs the image in Hyper-V gets a warning; local image facts win over the tag', async () => {
  const uri = 'file:///work/host2/Dockerfile';
  const text = 'FROM mcr.microsoft.com/windows/servercore:ltsc2019\nRUN echo hi\n';
  await session.connection.sendNotification(HostFactsNotification.type, {
    os: 'windows',
    build: 20348,
    isolations: ['process', 'hyperv'],
    defaultIsolation: 'process',
  });
  let next = session.nextDiagnostics(uri);
  await session.open(uri, text);
  const d = (await next).diagnostics;
  assert.deepEqual(codes(d), ['SILO111']);
  assert.equal(d[0].severity, 2);
  assert.match(String(d[0].message), /needs Hyper-V isolation on this 20348 \(ltsc2022\) host/);
  const hover = (await session.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 20 } })) as Hover;
  assert.match((hover.contents as MarkupContent).value, /build 17763 \(ltsc2019\).*\n\nOn this host, build 20348 \(ltsc2022\): process ✗ \(default\) · Hyper-V ✓/s);

  // The engine reports the local image tagged ltsc2019 is really a 20348 image: nothing to say.
  next = session.nextDiagnostics(uri, (p) => p.diagnostics.length === 0);
  await session.connection.sendNotification(ImageFactsNotification.type, {
    images: [{ ref: 'mcr.microsoft.com/windows/servercore:ltsc2019', os: 'windows', osVersion: '10.0.20348.2655' }],
  });
  assert.deepEqual(codes((await next).diagnostics), []);
});

test('settings are pulled per document and re-pulled when they change', async () => {
  const uri = 'file:///work/settings/Dockerfile';
  const text = 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nworkdir C:/app\nCOPY a D:/a/\n';
  await session.connection.sendNotification(HostFactsNotification.type, { os: 'windows', build: 20348, isolations: ['process'], defaultIsolation: 'process' });
  let next = session.nextDiagnostics(uri);
  await session.open(uri, text);
  assert.deepEqual(codes((await next).diagnostics).sort(), ['0', 'SILO108']);

  session.configuration['silo.dockerfile'] = { diagnostics: { instructionCasing: 'ignore' }, rules: { SILO108: 'ignore' } };
  next = session.nextDiagnostics(uri, (p) => p.diagnostics.length === 0);
  await session.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  assert.deepEqual(codes((await next).diagnostics), []);
  session.configuration = {};
});

test('build-cache hints from the builder show as code lenses', async () => {
  const uri = 'file:///work/cache/Dockerfile';
  const next = session.nextDiagnostics(uri);
  await session.open(uri, 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY app C:/app\nRUN C:/app/setup.exe\n');
  await next;
  assert.deepEqual(await session.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } }), []);
  await session.connection.sendNotification(BuildCacheHintsNotification.type, {
    uri,
    steps: [
      { line: 1, cached: true },
      { line: 2, cached: false, reason: 'COPY source changed: app/setup.exe' },
    ],
  });
  const lenses = (await session.connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) as CodeLens[];
  assert.deepEqual(
    lenses.map((l) => [l.range.start.line, l.command?.title]),
    [
      [1, 'CACHED'],
      [2, 'cache miss: COPY source changed: app/setup.exe'],
    ],
  );
});
