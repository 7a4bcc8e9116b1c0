// `silo docker-env [--context]`: points the docker CLI (and Container Tools, Testcontainers) at Silo's
// Docker API: `export DOCKER_HOST=unix://<root>/docker.sock`, or on Windows the PowerShell line
// `$env:DOCKER_HOST="npipe:////./pipe/silo-docker-…"` (dockerapi/endpoint.ts names the pipe). Starts the
// engine if none runs. With --context, creates (or updates) a docker context named `silo` instead.
import { spawnSync } from 'node:child_process';
import { SiloError } from '../errors';
import { dockerEnvLine, dockerHost } from '../dockerapi/endpoint';
import * as P from '../protocol';
import type { Command } from './cli';
import { bool } from './flags';

export const dockerEnv: Command = {
  name: 'docker-env',
  usage: '[--context]',
  description: "Print the environment that points docker at Silo's Docker API",
  flags: [{ name: 'context', kind: 'bool', help: 'Create a docker context named "silo" instead' }],
  maxArgs: 0,
  async run(cli, p) {
    // Make sure an engine (and with it the Docker API socket or pipe) is up.
    await (await cli.engine()).sendRequest(P.EngineInfoRequest.type, {});
    if (!bool(p, 'context')) {
      cli.out.write(`${dockerEnvLine(cli.root)}\n`);
      return 0;
    }
    const host = dockerHost(cli.root);
    const exists = spawnSync('docker', ['context', 'inspect', 'silo'], { stdio: 'ignore' }).status === 0;
    const args = exists ? ['context', 'update', 'silo', '--docker', `host=${host}`] : ['context', 'create', 'silo', '--description', 'Silo engine', '--docker', `host=${host}`];
    const r = spawnSync('docker', args, { encoding: 'utf8' });
    if (r.error) throw new SiloError('Unavailable', 'the docker CLI is not installed', 'install it, or use the DOCKER_HOST line from `silo docker-env`');
    if (r.status !== 0) throw new SiloError('Internal', `docker ${args.join(' ')} failed: ${(r.stderr || '').trim()}`);
    cli.out.write(`docker context "silo" points at ${host}; use it with: docker context use silo\n`);
    return 0;
  },
};
