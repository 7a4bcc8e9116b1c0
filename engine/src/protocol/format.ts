// How Docker shows protocol values to people — durations, sizes, published ports — shared by the CLI
// and the editor so both print what `docker` prints. Pure, no dependencies.
import type { PortMapping } from './index';

/** go-units HumanDuration: "Less than a second", "3 minutes", "About an hour". */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000)); // a clock a little behind must not print a negative age
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.round(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.round(h / 24 / 30)} months`;
  return `${Math.round(h / 24 / 365)} years`;
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
