import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfigChanges, shellWords } from '../../../engine/src/image/configChanges';

test('shell words honour quotes and escapes', () => {
  assert.deepEqual(shellWords(`a "b c" 'd e' f\\ g "h\\"i"`), ['a', 'b c', 'd e', 'f g', 'h"i']);
  assert.throws(() => shellWords('"open'), { kind: 'InvalidArgument' });
});

test('--change instructions edit the config as docker import does', () => {
  const c = applyConfigChanges({ Env: ['PATH=/bin'] }, [
    'ENV A=1 B="two words"',
    'ENV PATH /usr/bin:/bin',
    'CMD ["sh", "-c", "echo hi"]',
    'EXPOSE 80 53/udp',
    'LABEL org.example="x y" z=1',
    'WORKDIR /srv',
    'WORKDIR app',
    'USER nobody',
    'VOLUME /data',
    'STOPSIGNAL SIGINT',
    'ONBUILD RUN make',
    'HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost',
  ], 'linux');
  assert.deepEqual(c, {
    Env: ['PATH=/usr/bin:/bin', 'A=1', 'B=two words'],
    Cmd: ['sh', '-c', 'echo hi'],
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    Labels: { 'org.example': 'x y', z: '1' },
    WorkingDir: '/srv/app',
    User: 'nobody',
    Volumes: { '/data': {} },
    StopSignal: 'SIGINT',
    OnBuild: ['RUN make'],
    Healthcheck: { Interval: 30e9, Retries: 3, Test: ['CMD-SHELL', 'wget -q localhost'] },
  });
});

test('shell form CMD and ENTRYPOINT resetting CMD', () => {
  assert.deepEqual(applyConfigChanges({ Cmd: ['old'] }, ['ENTRYPOINT /bin/app --x'], 'linux'), { Cmd: null, Entrypoint: ['/bin/sh', '-c', '/bin/app --x'] });
  assert.deepEqual(applyConfigChanges({}, ['CMD ["a"]', 'ENTRYPOINT ["b"]'], 'linux'), { Cmd: ['a'], Entrypoint: ['b'] });
  assert.deepEqual(applyConfigChanges({}, ['CMD dir'], 'windows'), { Cmd: ['cmd', '/S', '/C', 'dir'] });
});

test('unknown or malformed changes are refused', () => {
  assert.throws(() => applyConfigChanges({}, ['RUN echo'], 'linux'), /RUN is not a valid change command/);
  assert.throws(() => applyConfigChanges({}, ['EXPOSE 99999'], 'linux'), { kind: 'InvalidArgument' });
  assert.throws(() => applyConfigChanges({}, ['HEALTHCHECK --interval=soon CMD x'], 'linux'), /invalid duration/);
});
