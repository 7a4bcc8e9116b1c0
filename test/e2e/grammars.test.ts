// The grammars of syntaxes/ tokenized by VS Code's own TextMate engine (vscode-textmate and
// vscode-oniguruma from the cached code-server), over VS Code's built-in Dockerfile grammar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { repoRoot } from '../fixtures/fixtureSilo';
import { cacheDir } from './editorTools';

const vscodeDir = path.join(cacheDir, 'code-server/node_modules/code-server/lib/vscode');
const skip = existsSync(path.join(vscodeDir, 'node_modules/vscode-textmate'))
  ? undefined
  : `VS Code's TextMate engine is not installed under ${cacheDir}: run \`bash scripts/e2e-setup.sh\``;

interface Token {
  startIndex: number;
  endIndex: number;
  scopes: string[];
}

async function tokenizer(scope: string) {
  const req = createRequire(path.join(vscodeDir, 'package.json'));
  const tm = req('vscode-textmate');
  const onig = req('vscode-oniguruma');
  await onig.loadWASM(readFileSync(req.resolve('vscode-oniguruma/release/onig.wasm')).buffer);
  const files: Record<string, string> = {
    'source.dockerfile': path.join(vscodeDir, 'extensions/docker/syntaxes/docker.tmLanguage.json'),
    'source.dockerfile.silo-escape': path.join(repoRoot, 'syntaxes/dockerfile-escape.injection.json'),
    'text.log.silo': path.join(repoRoot, 'syntaxes/silo-log.tmLanguage.json'),
  };
  const registry = new tm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new onig.OnigScanner(p), createOnigString: (s: string) => new onig.OnigString(s) }),
    loadGrammar: async (name: string) => (files[name] ? tm.parseRawGrammar(readFileSync(files[name], 'utf8'), files[name]) : null),
    // The manifest's `injectTo: ["source.dockerfile"]`.
    getInjections: (name: string) => (name === 'source.dockerfile' ? ['source.dockerfile.silo-escape'] : undefined),
  });
  const grammar = await registry.loadGrammar(scope);
  return (text: string) => {
    let state = tm.INITIAL;
    const out: Array<{ line: number; text: string; scopes: string[] }> = [];
    text.split('\n').forEach((line, n) => {
      const r = grammar.tokenizeLine(line, state);
      for (const t of r.tokens as Token[]) out.push({ line: n, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
      state = r.ruleStack;
    });
    return out;
  };
}

test('after `# escape=`` a trailing backtick continues the line and backslashes are plain path characters', { skip }, async () => {
  const tokenize = await tokenizer('source.dockerfile');
  const tokens = tokenize('# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR C:\\app\\\nRUN app.exe /install `\n    && echo done');
  const at = (line: number, text: string) => tokens.find((t) => t.line === line && t.text === text);
  assert.ok(at(0, '`')?.scopes.includes('constant.character.escape.dockerfile'), 'the directive names the escape character');
  assert.ok(at(3, '`')?.scopes.includes('constant.character.escape.line-continuation.dockerfile'), 'a trailing backtick continues the instruction');
  const slashes = tokens.filter((t) => t.line === 2 && t.text === '\\');
  assert.ok(slashes.length >= 1 && slashes.every((t) => !t.scopes.some((s) => s.startsWith('constant.character.escape'))), 'C:\\app\\ is a path, not an escape');
  assert.ok(tokens.some((t) => t.line === 1 && t.scopes.some((s) => s.startsWith('keyword'))), 'the base grammar still colours instructions');
});

test('without the directive the built-in Dockerfile grammar is left alone', { skip }, async () => {
  const tokenize = await tokenizer('source.dockerfile');
  const tokens = tokenize('FROM busybox\nRUN echo `hi`');
  assert.ok(!tokens.some((t) => t.scopes.some((s) => s.includes('line-continuation'))));
});

test('the log grammar tells stderr from stdout and greys timestamps', { skip }, async () => {
  const tokenize = await tokenizer('text.log.silo');
  const tokens = tokenize('2026-11-24T01:02:03.5Z out│ ready on http://localhost:3000\nerr│ ERROR failed\n-- the container stopped; the log ends here');
  assert.ok(tokens.find((t) => t.text === 'err│')?.scopes.includes('keyword.other.stream.stderr.silo-log'));
  assert.ok(tokens.find((t) => t.text === 'out│')?.scopes.includes('comment.stream.stdout.silo-log'));
  assert.ok(tokens.find((t) => t.text.startsWith('2026-11-24T01:02:03.5Z'))?.scopes.includes('comment.timestamp.silo-log'));
  assert.ok(tokens.find((t) => t.text === 'ERROR')?.scopes.some((s) => s.startsWith('invalid.illegal.level.error')));
  assert.ok(tokens.find((t) => t.text.startsWith('http://'))?.scopes.includes('markup.underline.link.silo-log'));
  assert.ok(tokens.find((t) => t.line === 2)?.scopes.includes('comment.line.silo-log'));
});
