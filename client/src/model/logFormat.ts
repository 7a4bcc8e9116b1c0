// How the log view renders engine log lines: one text line per log line, stderr marked so that the
// silo-log grammar (syntaxes/silo-log.tmLanguage.json) colours it, timestamps only on demand.
import type { LogLine } from '../../../engine/src/protocol';

export interface LogFormat {
  timestamps: boolean;
}

/** `out│ text` / `err│ text`, with the RFC 3339 time first when asked; always one trailing newline. */
export function formatLogLine(line: LogLine, fmt: LogFormat): string {
  const text = line.log.endsWith('\n') ? line.log.slice(0, -1) : line.log;
  const tag = line.stream === 'stderr' ? 'err│' : 'out│';
  return `${fmt.timestamps ? `${line.time} ` : ''}${tag} ${text.replace(/\r$/, '')}\n`;
}

/** Keeps every line (the view never drops one) and renders on demand. */
export class LogBuffer {
  private readonly lines: LogLine[] = [];
  /** Where to resume after a reconnect: the cursor of the last line received. */
  cursor: string | undefined;

  append(lines: LogLine[]): void {
    for (const l of lines) {
      this.lines.push(l);
      this.cursor = l.cursor;
    }
  }

  get length(): number {
    return this.lines.length;
  }

  render(fmt: LogFormat): string {
    let out = '';
    for (const l of this.lines) out += formatLogLine(l, fmt);
    return out;
  }
}
