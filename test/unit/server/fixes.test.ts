// Each quick fix, applied to the text, gives the Dockerfile a user would write by hand, and the
// check it answers goes quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { checkDockerfile, type Finding } from '../../../server/src/rules/index';
import { skipFixes } from '../../../server/src/rules/skipDirectives';
import type { HostFacts } from '../../../server/src/protocol';

const ws2022: HostFacts = { os: 'windows', build: 20348, isolations: ['process', 'hyperv'], defaultIsolation: 'process' };

function lines(...l: string[]): string {
  return l.join('\n') + '\n';
}

function findings(text: string, host?: HostFacts): Finding[] {
  return checkDockerfile(text, { host }).findings;
}

function applyFix(text: string, code: string, title: RegExp, host?: HostFacts): string {
  const f = findings(text, host).find((x) => x.code === code);
  assert.ok(f, `${code} reported`);
  const fix = f.fixes.find((x) => title.test(x.title));
  assert.ok(fix, `fix ${title} offered; got ${f.fixes.map((x) => x.title).join(' | ')}`);
  return TextDocument.applyEdits(TextDocument.create('x', 'dockerfile', 1, text), fix.edits);
}

test('SILO101: switching to the backtick escape keeps path backslashes and rewrites continuations and escapes', () => {
  const text = lines(
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
    'WORKDIR C:\\app',
    'COPY app.exe C:\\',
    'RUN app.exe /install',
    'ENV TOOLS=C:\\tools\\bin HOMEVAR=\\$HOME SAFE=C:\\\\x',
    'RUN echo one && \\',
    '    echo two',
  );
  const fixed = applyFix(text, 'SILO101', /backtick/);
  assert.equal(
    fixed,
    lines(
      '# escape=`',
      'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
      'WORKDIR C:\\app',
      'COPY app.exe C:\\',
      'RUN app.exe /install',
      'ENV TOOLS=C:\\tools\\bin HOMEVAR=`$HOME SAFE=C:\\x',
      'RUN echo one && `',
      '    echo two',
    ),
  );
  assert.deepEqual(findings(fixed), []);
});

test('SILO101: forward slashes for one path', () => {
  const fixed = applyFix(lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'WORKDIR C:\\app\\bin'), 'SILO101', /forward slashes/);
  assert.equal(fixed.split('\n')[1], 'WORKDIR C:/app/bin');
});

test('SILO101 stays silent on Linux continuations and escaped backslashes', () => {
  assert.deepEqual(findings(lines('FROM debian:12', "RUN printf 'a\\n'\\", ' && echo done', 'ENV A=\\$B')), []);
  assert.deepEqual(findings(lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'ENV P=C:\\\\tools', 'RUN dir C:\\tools')), []);
});

test('SILO102: both fixes give valid JSON with the intended path', () => {
  const text = lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'RUN ["c:\\windows\\system32\\tasklist.exe", "/v"]');
  const doubled = applyFix(text, 'SILO102', /Double/).split('\n')[1];
  assert.deepEqual(JSON.parse(doubled.slice(4)), ['c:\\windows\\system32\\tasklist.exe', '/v']);
  const slashed = applyFix(text, 'SILO102', /forward/).split('\n')[1];
  assert.deepEqual(JSON.parse(slashed.slice(4)), ['c:/windows/system32/tasklist.exe', '/v']);
});

test('SILO102: a shell-form test command that starts with [ is not exec form', () => {
  assert.deepEqual(findings(lines('FROM debian:12', 'RUN [ "$A" = "b\\c" ]')), []);
});

test('SILO103: pwsh where the .NET SDK image ships it', () => {
  const text = lines('FROM mcr.microsoft.com/dotnet/sdk:8.0-nanoserver-ltsc2022', 'RUN powershell -Command Write-Host hi');
  assert.equal(applyFix(text, 'SILO103', /pwsh/).split('\n')[1], 'RUN pwsh -Command Write-Host hi');
});

test('SILO103: through ARG defaults and stage chains, with a Server Core fix on the root FROM', () => {
  const text = lines(
    'ARG TAG=ltsc2022',
    'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 AS base',
    'FROM base AS mid',
    'FROM mid',
    'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\'; $ProgressPreference = \'SilentlyContinue\';"]',
  );
  const f = findings(text).filter((x) => x.code === 'SILO103');
  assert.equal(f.length, 1);
  assert.equal(f[0].range.start.line, 4);
  assert.equal(applyFix(text, 'SILO103', /Server Core/).split('\n')[1], 'FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS base');
});

test('SILO103: pwsh copied into Nano Server (the PowerShell image pattern) is fine', () => {
  const text = lines(
    'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022',
    'COPY --from=installer ["/PowerShell", "/Program Files/PowerShell"]',
    'SHELL ["pwsh", "-Command", "$ErrorActionPreference = \'Stop\'; $ProgressPreference = \'SilentlyContinue\';"]',
  );
  assert.deepEqual(findings(text), []);
});

test('SILO104: prefix powershell -Command; unknown base images are left alone', () => {
  const text = lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'RUN Expand-Archive app.zip C:/app');
  assert.equal(applyFix(text, 'SILO104', /powershell -Command/).split('\n')[1], 'RUN powershell -Command Expand-Archive app.zip C:/app');
  // An image Silo has not seen may set SHELL in its config: no claim about the shell.
  assert.deepEqual(findings(lines('FROM contoso/tools:windowsservercore-ltsc2022', 'RUN Expand-Archive app.zip C:/app')), []);
});

test('SILO105: the fix writes the official SHELL line', () => {
  const fixed = applyFix(
    lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'SHELL ["powershell", "-Command"]', 'RUN Invoke-WebRequest https://example.invalid/a.zip -OutFile a.zip'),
    'SILO105',
    /Add/,
  );
  assert.equal(
    fixed.split('\n')[1],
    'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\'; $ProgressPreference = \'SilentlyContinue\';"]',
  );
  assert.deepEqual(findings(fixed), []);
});

test('SILO105: preferences each RUN sets itself, or a SHELL nothing runs under, are fine', () => {
  const text = lines(
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
    'SHELL ["powershell", "-command"]',
    "RUN $ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'; Invoke-WebRequest https://example.invalid/a -OutFile a",
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
    'SHELL ["powershell"]',
    'CMD Write-Host hi',
  );
  assert.deepEqual(findings(text), []);
  const noDownloads = lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\';"]', 'RUN Write-Host hi');
  assert.deepEqual(findings(noDownloads), []);
});

test('SILO106: && becomes a $? test; pwsh and quoted text are fine', () => {
  const shell = 'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\'; $ProgressPreference = \'SilentlyContinue\';"]';
  const text = lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', shell, 'RUN .\\setup.exe /quiet && Remove-Item setup.exe');
  const fixed = applyFix(text, 'SILO106', /Replace/);
  assert.equal(fixed.split('\n')[2], 'RUN .\\setup.exe /quiet ; if (-not $?) { exit 1 }; Remove-Item setup.exe');
  assert.deepEqual(findings(fixed), []);
  assert.deepEqual(findings(lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'RUN powershell -Command "a && b"')).map((f) => f.code), ['SILO106']);
  assert.deepEqual(findings(lines('FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'RUN echo a && echo b')), []);
});

test('SILO107: scratch becomes Nano Server of the build stage release', () => {
  const text = lines('FROM mcr.microsoft.com/windows/servercore:ltsc2019 AS build', 'FROM scratch', 'COPY --from=build C:/app C:/app');
  assert.equal(applyFix(text, 'SILO107', /nanoserver/).split('\n')[1], 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2019');
  // scratch fed from a Linux stage is a normal Linux image.
  assert.deepEqual(findings(lines('FROM golang:1.23 AS build', 'FROM scratch', 'COPY --from=build /app /app')), []);
});

test('SILO108, SILO109: copy to C:, absolute WORKDIR', () => {
  assert.equal(applyFix(lines('FROM mcr.microsoft.com/windows/nanoserver:ltsc2022', 'COPY a D:\\\\a\\\\'), 'SILO108', /C:/).split('\n')[1], 'COPY a C:\\\\a\\\\');
  const wd = lines('# escape=`', 'FROM mcr.microsoft.com/windows/servercore:ltsc2022', 'WORKDIR C:app');
  assert.equal(applyFix(wd, 'SILO109', /Use/).split('\n')[2], 'WORKDIR C:\\app');
});

test('SILO110: the tag offered follows the host', () => {
  const text = lines('FROM mcr.microsoft.com/windows/servercore');
  assert.equal(applyFix(text, 'SILO110', /ltsc2022/, ws2022).trim(), 'FROM mcr.microsoft.com/windows/servercore:ltsc2022');
  assert.deepEqual(
    findings(text)[0].fixes.map((f) => f.title),
    ['Use mcr.microsoft.com/windows/servercore:ltsc2025', 'Use mcr.microsoft.com/windows/servercore:ltsc2022'],
  );
});

test('SILO111: a newer image than the host is an error with a tag fix; Hyper-V-only is a warning', () => {
  const text = lines('FROM mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2025');
  const f = findings(text, ws2022);
  assert.equal(f[0].severity, 'error');
  assert.equal(applyFix(text, 'SILO111', /Use/, ws2022).trim(), 'FROM mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022');
  const old = findings(lines('FROM mcr.microsoft.com/windows/servercore:1809'), ws2022);
  assert.equal(old[0].severity, 'warning');
  assert.match(old[0].message, /needs Hyper-V isolation/);
  const processOnly = findings(lines('FROM mcr.microsoft.com/windows/servercore:1809'), { ...ws2022, isolations: ['process'] });
  assert.equal(processOnly[0].severity, 'error');
});

test('skip fixes add a directive the checks honour', () => {
  const text = lines('FROM mcr.microsoft.com/windows/nanoserver:ltsc2022', '    COPY a D:/a/');
  const r = checkDockerfile(text);
  const [one, file] = skipFixes(r.file, r.findings[0]);
  const apply = (edits: typeof one.edits) => TextDocument.applyEdits(TextDocument.create('x', 'dockerfile', 1, text), edits);
  assert.equal(apply(one.edits).split('\n')[1], '    # silo-ignore SILO108');
  assert.deepEqual(findings(apply(one.edits)), []);
  assert.equal(apply(file.edits).split('\n')[0], '# silo-ignore-file SILO108');
  assert.deepEqual(findings(apply(file.edits)), []);
});

test('severity settings change or turn off a check', () => {
  const text = lines('FROM mcr.microsoft.com/windows/nanoserver:ltsc2022', 'COPY a D:/a/');
  assert.equal(checkDockerfile(text, { severities: { SILO108: 'warning' } }).findings[0].severity, 'warning');
  assert.deepEqual(checkDockerfile(text, { severities: { SILO108: 'ignore' } }).findings, []);
});

test('skip directives: several codes, no codes, comments in between, and only the instruction below', () => {
  const base = 'FROM mcr.microsoft.com/windows/nanoserver:ltsc2022';
  assert.deepEqual(findings(lines(base, '# silo-ignore SILO101, SILO108', 'COPY a D:/a/')), []);
  assert.deepEqual(findings(lines(base, '# silo-ignore', '# copy the data', 'COPY a D:/a/')), []);
  assert.deepEqual(findings(lines(base, '# silo-ignore SILO101', 'COPY a D:/a/')).map((f) => f.code), ['SILO108']);
  assert.deepEqual(findings(lines(base, '# silo-ignore SILO108', 'COPY a D:/a/', 'COPY b D:/b/')).map((f) => f.range.start.line), [3]);
  assert.deepEqual(findings(lines('# silo-ignore-file', base, 'COPY a D:/a/')), []);
});
