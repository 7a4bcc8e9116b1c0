// What the Layers view shows: an image's history (one row per instruction with the size it added,
// oldest first as a Dockerfile reads) or a container's live diff (added / changed / deleted paths).
import type { Change, HistoryRow } from '../../../engine/src/protocol';
import { humanSize } from './imageRows';
import { ContextValues } from './viewIds';

export interface HistoryItem {
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  empty: boolean;
}

/** `/bin/sh -c #(nop) CMD ["sh"]` -> `CMD ["sh"]`; `/bin/sh -c echo hi` -> `RUN echo hi` (Docker's history forms). */
export function instructionOf(createdBy: string): string {
  const s = createdBy.trim();
  const nop = /^\/bin\/sh -c #\(nop\)\s*(.*)$/s.exec(s) ?? /^cmd \/S \/C #\(nop\)\s*(.*)$/is.exec(s);
  if (nop) return nop[1].trim();
  const run = /^\/bin\/sh -c (.*)$/s.exec(s) ?? /^cmd \/S \/C (.*)$/is.exec(s);
  if (run) return `RUN ${run[1].trim()}`;
  return s || '(no instruction recorded)';
}

export function historyItems(rows: HistoryRow[]): HistoryItem[] {
  // The engine answers newest first (docker history); a Dockerfile reads oldest first.
  return [...rows].reverse().map((r) => {
    const instruction = instructionOf(r.CreatedBy);
    const empty = r.Size === 0;
    return {
      label: instruction.length > 80 ? `${instruction.slice(0, 79)}…` : instruction,
      description: empty ? '0B' : humanSize(r.Size),
      tooltip: [instruction, `Size: ${humanSize(r.Size)}`, `Created: ${new Date(r.Created * 1000).toISOString()}`, ...(r.Comment ? [r.Comment] : [])].join('\n'),
      contextValue: ContextValues.historyRow,
      empty,
    };
  });
}

export interface ChangeItem {
  kind: Change['kind'];
  path: string;
  label: string;
  description: string;
  contextValue: string;
}

const KIND_WORD: Record<Change['kind'], string> = { A: 'added', C: 'changed', D: 'deleted' };

export function changeItems(changes: Change[]): ChangeItem[] {
  return changes.map((c) => ({
    kind: c.kind,
    path: c.path,
    label: c.path,
    description: `${c.kind} · ${KIND_WORD[c.kind]}`,
    contextValue: c.kind === 'D' ? ContextValues.changeDeleted : ContextValues.change,
  }));
}
