// Output the way the docker CLI prints it: tab-aligned tables (tabwriter minwidth 10, padding 3),
// human sizes (decimal units, 3 significant digits), "2 minutes ago", truncated IDs and commands.
import { humanDuration, humanSize, portsText } from '../protocol/format';
import { compileTemplate } from './goTemplate';

export { humanSize };

/** Columns padded to the widest cell plus 3, at least 10 wide; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  return tabwriter([header, ...rows]).map((line) => line.trimEnd()).join('\n') + '\n';
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

/** Go's time.Time.String() in UTC, as docker's CreatedAt columns print: "2024-01-02 03:04:05 +0000 UTC". */
export function goTime(iso: string | number): string {
  const d = new Date(typeof iso === 'number' ? iso * 1000 : iso);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/**
 * docker's `--format` for a list (docker/cli formatter): "json" prints each row as one JSON line;
 * "table TEMPLATE" prints a header (the template run over the field names) and the rows in aligned
 * columns at its tabs; any other template runs once per row. As docker, `\t` and `\n` typed into the
 * template are a tab and a newline. `headers` names each field's column.
 */
export function formatRows(format: string, rows: Array<Record<string, unknown>>, headers: Record<string, string>): string {
  if (format.trim() === 'json') return rows.map((r) => JSON.stringify(r) + '\n').join('');
  const isTable = format.startsWith('table');
  const body = (isTable ? format.slice('table'.length) : format).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const render = compileTemplate(body);
  if (!isTable) return rows.map((r) => render(r) + '\n').join('');
  return tabwriter([render(headers), ...rows.map((r) => render(r))].map((line) => line.split('\t'))).join('\n') + '\n';
}

/**
 * Go's tabwriter as docker sets it up (minwidth 10, padding 3), over lines of cells: every cell but a
 * line's last is padded to its column's width plus 3; the last is not.
 */
function tabwriter(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 10 - 3, [...cell].length)));
  return rows.map((r) => r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat(widths[c] + 3 - [...cell].length) : cell)).join(''));
}
