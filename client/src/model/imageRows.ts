// What the Images view shows for the engine's image list: repository:tag, OS, size and age, with
// dangling images (untagged) hidden unless asked for, as Container Tools does.
import type { ImageSummary } from '../../../engine/src/protocol';
import { humanDuration } from './containerRows';
import { ContextValues } from './viewIds';
import { humanSize } from '../../../engine/src/protocol/format';

export interface ImageRow {
  id: string;
  /** What commands act on: the repo:tag, or the short ID for a dangling image. */
  ref: string;
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  dangling: boolean;
}

export { humanSize };

export function isDangling(img: ImageSummary): boolean {
  return img.repository === '<none>' || img.tag === '<none>';
}

export function imageRow(img: ImageSummary, now: number): ImageRow {
  const dangling = isDangling(img);
  const shortId = img.id.replace(/^sha256:/, '').slice(0, 12);
  const label = dangling ? `<none> (${shortId})` : `${img.repository}:${img.tag}`;
  const created = Date.parse(img.created);
  const age = Number.isNaN(created) ? '' : `${humanDuration(now - created)} ago`;
  return {
    id: img.id,
    ref: dangling ? shortId : `${img.repository}:${img.tag}`,
    label,
    description: [`${img.os}/${img.architecture}`, humanSize(img.size), age].filter(Boolean).join(' · '),
    tooltip: [label, `ID: ${img.id}`, `OS: ${img.os}/${img.architecture}`, `Size: ${humanSize(img.size)}`, `Created: ${img.created}`].join('\n'),
    contextValue: ContextValues.image,
    dangling,
  };
}

/** Rows sorted by label; dangling images only when `showDangling`. */
export function imageRows(list: ImageSummary[], now: number, showDangling: boolean): ImageRow[] {
  return list
    .filter((i) => showDangling || !isDangling(i))
    .map((i) => imageRow(i, now))
    .sort((a, b) => a.label.localeCompare(b.label));
}
