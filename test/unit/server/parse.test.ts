// The BuildKit-faithful view of a Dockerfile that Silo's checks read, and the corrected copy the
// dockerfile-utils validator reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileLanguageServiceFactory } from 'dockerfile-language-service';
import { parseDockerfile } from '../../../server/src/dockerfile/parse';
import { resolveStages, shellAt } from '../../../server/src/dockerfile/stages';
import { textForValidator } from '../../../server/src/libraryView';

test('an escaped escape at the end of a line ends the instruction (BuildKit), a single one continues it', () => {
  const f = parseDockerfile('FROM x\nCOPY a \\\n  b \\\n  C:\\\\dir\\\\\n\nENV A=b\n');
  assert.deepEqual(f.instructions.map((i) => i.keyword), ['FROM', 'COPY', 'ENV']);
  assert.equal(f.instructions[1].args, 'a   b   C:\\\\dir\\\\');
  assert.deepEqual(f.escapedEscapeLineEnds, [3]);
  assert.deepEqual(f.instructions[1].positionAt(f.instructions[1].args.indexOf('C:')), { line: 3, character: 2 });
});

test('the escape directive switches the continuation character; comments inside continuations are skipped', () => {
  const f = parseDockerfile('# escape=`\nFROM x\nRUN a `\n# note\n  b\nWORKDIR C:\\app\\\nENV A=1\n');
  assert.equal(f.escape, '`');
  assert.deepEqual(f.instructions.map((i) => [i.keyword, i.args]), [['FROM', 'x'], ['RUN', 'a   b'], ['WORKDIR', 'C:\\app\\'], ['ENV', 'A=1']]);
});

test('heredoc bodies belong to their instruction', () => {
  const f = parseDockerfile('FROM x\nRUN <<EOF\nFROM y\nEOF\nENV A=1\n');
  assert.deepEqual(f.instructions.map((i) => i.keyword), ['FROM', 'RUN', 'ENV']);
});

test('the validator no longer reports the official mongo file falsely', () => {
  const text = 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY --from=m \\\n\tC:\\\\a.dll \\\n\tC:\\\\b.dll \\\n\tC:\\\\Windows\\\\System32\\\\\n\nENV A=b\n';
  const service = DockerfileLanguageServiceFactory.createLanguageService();
  assert.equal(service.validate(text).length, 2, 'dockerfile-utils alone: empty continuation + destination error');
  const corrected = textForValidator(parseDockerfile(text));
  assert.equal(corrected.length, text.length);
  assert.deepEqual(service.validate(corrected), []);
});

test('stages resolve through ARG defaults and FROM <stage>; SHELL is inherited', () => {
  const f = parseDockerfile(
    'ARG REPO=mcr.microsoft.com/dotnet/aspnet\nFROM ${REPO}:8.0-nanoserver-ltsc2022 AS base\nSHELL ["cmd", "/S", "/C"]\nFROM base\nRUN x\n',
  );
  const stages = resolveStages(f);
  assert.equal(stages[1].parent, stages[0]);
  assert.equal(stages[1].facts.family, 'nanoserver');
  assert.deepEqual(shellAt(stages[1], stages[1].body[0]), ['cmd', '/S', '/C']);
  assert.equal(resolveStages(parseDockerfile('FROM $UNSET\n'))[0].facts.windows, undefined);
});
