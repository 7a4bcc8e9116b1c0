// Output the way the docker CLI prints it: tab-aligned tables (tabwriter minwidth 10, padding 3),
// human sizes (decimal units, 3 significant digits), "2 minutes ago", truncated IDs and commands.
import { humanDuration, humanSize, portsText } from '../protocol/format';

export { humanSize };

/** Columns padded to the widest cell plus 3, at least 10 wide; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(10 - 3, ...all.map((r) => (r[c] ?? '').length)) + 3);
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('').trimEnd()).join('\n') + '\n';
}

/** go-units BytesSize (binary units), as docker stats prints memory: 1.5MiB, 64MiB, 23.4GiB. */
export function humanBinary(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(2)).toString()}${units[i]}`;
}

export function ago(iso: string | number, now = Date.now()): string {
  const t = typeof iso === 'number' ? iso * 1000 : Date.parse(iso);
  return `${humanDuration(now - t)} ago`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** docker ps's COMMAND column: quoted, cut at 20 characters with an ellipsis. */
export function commandColumn(cmd: string): string {
  const text = cmd.length > 20 ? cmd.slice(0, 19) + '…' : cmd;
  return `"${text}"`;
}

export const portsColumn = portsText;
