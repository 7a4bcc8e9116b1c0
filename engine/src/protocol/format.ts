// How Docker shows protocol values to people — durations, sizes, published ports — shared by the CLI
// and the editor so both print what `docker` prints. Pure, no dependencies.
import type { PortMapping } from './index';

/** go-units HumanDuration: "Less than a second", "3 minutes", "About an hour". */
export function humanDuration(ms: number): string {
  // go-units truncates every unit but the hour, which it rounds (int(d.Hours() + 0.5)).
  const d = Math.max(0, ms); // a clock a little behind must not print a negative age
  const s = Math.floor(d / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(d / 60_000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.floor(d / 3_600_000 + 0.5);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(Math.floor(d / 3_600_000) / 24 / 365)} years`;
}

/** go-units HumanSizeWithPrecision(size, 3): 4.26MB, 1.24kB, 0B. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** docker ps's PORTS column: `127.0.0.1:8080->80/tcp, ...`. */
export function portsText(ports: PortMapping[]): string {
  return ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');
}

/** docker's words for a pulled layer's phases (moby's progress messages). */
export const PULL_STATUS = {
  waiting: 'Pulling fs layer', queued: 'Waiting', downloading: 'Downloading', verifying: 'Verifying Checksum',
  downloaded: 'Download complete', extracting: 'Extracting', complete: 'Pull complete', exists: 'Already exists',
} as const;

/** docker's words for a pushed layer's phases. */
export const PUSH_STATUS = {
  preparing: 'Preparing', waiting: 'Waiting', pushing: 'Pushing', pushed: 'Pushed',
  exists: 'Layer already exists', mounted: 'Mounted from',
} as const;

/** The phases docker reports with a byte count: its CLI prints such a message only on a terminal. */
export const PROGRESS_PHASES: ReadonlySet<string> = new Set(['downloading', 'extracting', 'pushing']);

/** A layer's status as docker words it: "Pull complete", "Mounted from team/app". */
export function layerStatus(words: Readonly<Record<string, string>>, p: { phase: string; from?: string }): string {
  return (words[p.phase] ?? p.phase) + (p.from ? ` ${p.from}` : '');
}
