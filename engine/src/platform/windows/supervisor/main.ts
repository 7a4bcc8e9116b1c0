// The HCS supervisor process entry (bundled as dist/silo-hcs-supervisor.js): one JSON argument, the
// SupervisorConfig. Kept apart from server.ts so that importing the supervisor never starts one.
import type { SupervisorConfig } from './protocol';
import { runSupervisor } from './server';

const config = JSON.parse(process.argv[2] ?? '{}') as SupervisorConfig;
runSupervisor(config).catch((err) => {
  process.stderr.write(`silo hcs supervisor: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
