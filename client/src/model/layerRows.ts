// What the Layers view shows: an image's history (one row per instruction with the size it added,
// oldest first as a Dockerfile reads; a row that added a layer lists that layer's files) or a
// container's live diff (added / changed / deleted paths).
import type { Change, HistoryRow, LayerEntry } from '../../../engine/src/protocol';
import { humanSize } from './imageRows';
import { ContextValues } from './viewIds';

export interface HistoryItem {
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  empty: boolean;
  /** The layer this step added (0: the base), or null for a metadata-only step. */
  layer: number | null;
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

/** `layerOfRow`: the engine's `images/layers` answer, aligned with `rows`; without it no row lists files. */
export function historyItems(rows: HistoryRow[], layerOfRow: Array<number | null> = []): HistoryItem[] {
  // The engine answers newest first (docker history); a Dockerfile reads oldest first.
  return rows.map((r, i) => ({ r, layer: layerOfRow[i] ?? null })).reverse().map(({ r, layer }) => {
    const instruction = instructionOf(r.CreatedBy);
    const empty = r.Size === 0 && layer === null;
    return {
      label: instruction.length > 80 ? `${instruction.slice(0, 79)}…` : instruction,
      description: empty ? '0B' : humanSize(r.Size),
      tooltip: [instruction, `Size: ${humanSize(r.Size)}`, `Created: ${new Date(r.Created * 1000).toISOString()}`, ...(r.Comment ? [r.Comment] : [])].join('\n'),
      contextValue: ContextValues.historyRow,
      empty,
      layer,
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

export interface LayerFileItem {
  label: string;
  description: string;
  tooltip: string;
  kind: LayerEntry['kind'] | 'more';
  /** The path to open read-only; none for directories, whiteouts and the "more" row. */
  openPath?: string;
  contextValue: string;
}

/** One layer's entries sorted by path (tar order is the builder's); whiteouts read as deletions; past the engine's cap, one "…N more" row. */
export function layerFileItems(listing: { entries: LayerEntry[]; more: number }): LayerFileItem[] {
  const sorted = [...listing.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const items = sorted.map((e): LayerFileItem => {
    switch (e.kind) {
      case 'whiteout':
        return e.opaque
          ? { label: `${e.path}/`, description: 'deleted · contents of lower layers', tooltip: `This layer hides everything lower layers put in ${e.path} (opaque whiteout).`, kind: e.kind, contextValue: ContextValues.layerFileDeleted }
          : { label: e.path, description: 'deleted', tooltip: `This layer deletes ${e.path} (whiteout).`, kind: e.kind, contextValue: ContextValues.layerFileDeleted };
      case 'dir':
        return { label: `${e.path}/`, description: '', tooltip: e.path, kind: e.kind, contextValue: ContextValues.layerFile };
      case 'symlink':
        return { label: e.path, description: `→ ${e.target ?? ''}`, tooltip: `${e.path} → ${e.target ?? ''}`, kind: e.kind, openPath: e.path, contextValue: ContextValues.layerFile };
      case 'file':
        return e.target !== undefined
          ? { label: e.path, description: `hard link to ${e.target}`, tooltip: `${e.path} shares its bytes with ${e.target}`, kind: e.kind, openPath: e.path, contextValue: ContextValues.layerFile }
          : { label: e.path, description: humanSize(e.size), tooltip: `${e.path}\n${humanSize(e.size)}`, kind: e.kind, openPath: e.path, contextValue: ContextValues.layerFile };
      default:
        return { label: e.path, description: 'special file', tooltip: `${e.path} (device, FIFO or socket)`, kind: e.kind, contextValue: ContextValues.layerFile };
    }
  });
  if (listing.more > 0) {
    items.push({ label: `…${listing.more.toLocaleString('en-US')} more`, description: '', tooltip: 'The view lists the first entries of a layer only.', kind: 'more', contextValue: ContextValues.layerFileMore });
  }
  return items;
}
