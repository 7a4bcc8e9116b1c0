// Engine and system verbs: info, version, system prune, and `engine` (run the engine in this process).
import * as P from '../protocol';
import type { Command } from './cli';
import { bool } from './flags';
import { humanSize } from './format';
import { loadEngine } from './engineBundle';
import { serveFrontRelay } from './relay';
import { VERSION, API_VERSION } from '../version';

const info: Command = {
  name: 'info',
  usage: '',
  description: 'Display engine-wide information',
  flags: [],
  maxArgs: 0,
  async run(cli) {
    const i = await (await cli.engine()).sendRequest(P.EngineInfoRequest.type, {});
    cli.out.write(
      [
        `Containers: ${i.containers.total}`,
        ` Running: ${i.containers.running}`,
        ` Stopped: ${i.containers.stopped}`,
        `Images: ${i.images}`,
        `Server Version: ${i.version}`,
        `Storage Driver: ${i.storageDriver}`,
        `Runtime: ${i.runtime}`,
        ...(i.cgroupMode ? [`Cgroup Version: ${i.cgroupMode}`] : []),
        `Isolation: ${i.isolations.join(', ')} (default ${i.defaultIsolation})`,
        `Kernel Version: ${i.kernel}`,
        `OSType: ${i.os}`,
        `Architecture: ${i.architecture}`,
        `Silo Root Dir: ${i.dataRoot}`,
        `Engine PID: ${i.pid}`,
      ].join('\n') + '\n',
    );
    return 0;
  },
};

const version: Command = {
  name: 'version',
  usage: '',
  description: 'Show the Silo version information',
  flags: [],
  maxArgs: 0,
  async run(cli) {
    cli.out.write(`Client:\n Version:     ${VERSION}\n API version: ${API_VERSION}\n Node:        ${process.version}\n OS/Arch:     ${process.platform}/${process.arch}\n`);
    const i = await (await cli.engine()).sendRequest(P.EngineInfoRequest.type, {});
    cli.out.write(`\nEngine:\n Version:     ${i.version}\n API version: ${i.apiVersion}\n OS/Arch:     ${i.os}/${i.architecture}\n Runtime:     ${i.runtime}\n`);
    return 0;
  },
};

const prune: Command = {
  name: 'system prune',
  usage: '[OPTIONS]',
  description: 'Remove stopped containers, dangling images and content nothing refers to',
  flags: [{ name: 'force', short: 'f', kind: 'bool', help: 'Do not prompt for confirmation' }],
  maxArgs: 0,
  async run(cli, p) {
    if (!bool(p, 'force') && cli.stdin.isTTY) {
      cli.out.write('WARNING! This will remove all stopped containers, dangling images and unreferenced content.\nAre you sure you want to continue? [y/N] ');
      const answer = await new Promise<string>((resolve) => cli.stdin.once('data', (d) => resolve(String(d).trim())));
      cli.stdin.pause();
      if (!/^y(es)?$/i.test(answer)) return 0;
    }
    const r = await (await cli.engine()).sendRequest(P.SystemPruneRequest.type, {});
    if (r.containersDeleted.length) cli.out.write(`Deleted Containers:\n${r.containersDeleted.join('\n')}\n\n`);
    if (r.imagesDeleted.length) cli.out.write(`Deleted Images:\n${r.imagesDeleted.map((d) => `deleted: ${d}`).join('\n')}\n\n`);
    cli.out.write(`Total reclaimed space: ${humanSize(r.spaceReclaimed)}\n`);
    return 0;
  },
};

const engine: Command = {
  name: 'engine',
  usage: '[--root DIR] [--docker-tcp 127.0.0.1:PORT]',
  description: 'Run the engine for a data root in this process (the CLI starts one on demand)',
  flags: [{ name: 'docker-tcp', kind: 'string', value: 'HOST:PORT', help: 'Also serve the Docker API over TCP on this loopback address (no other address is accepted)' }],
  maxArgs: 0,
  async run(cli, p) {
    const dockerTcp = typeof p.flags['docker-tcp'] === 'string' ? p.flags['docker-tcp'] : undefined;
    const running = await loadEngine().runEngine(cli.root, { dockerTcp });
    // The native `silo` front exists for Linux (engine/front/silo-front.c); other hosts use silo.js.
    const relay = process.platform === 'linux' ? await serveFrontRelay(cli.root) : undefined;
    process.stderr.write(`silo engine ${VERSION} serving ${cli.root} (pid ${process.pid})\n`);
    await new Promise<void>((resolve) => {
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => resolve());
    });
    // Containers keep running: their monitors do not depend on the engine.
    await relay?.close();
    await running.close();
    // Sessions still open (a `docker attach`'s connection to its container's monitor, the monitor
    // launcher's pipes) would keep the event loop, and so a stopped engine, alive.
    process.exit(0);
  },
};

export const systemCommands: Command[] = [info, version, prune, engine];
