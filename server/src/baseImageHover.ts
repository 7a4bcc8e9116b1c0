// What a hover over a FROM image adds to the library's instruction docs: the image's Windows build and
// whether this host runs it in each isolation mode, by the engine's compatibility rule.
import type { Position } from 'vscode-languageserver-types';
import { buildFromImageTag, checkWindowsCompatibility, parseWindowsVersion, WindowsReleases } from '../../engine/src/image/windowsCompat';
import type { Dockerfile } from './dockerfile/parse';
import { findLocalImage, type Stage } from './dockerfile/stages';
import type { HostFacts, ImageFact } from './protocol';

function describe(build: number): string {
  const r = WindowsReleases[build];
  return r ? `${build} (${r.name})` : String(build);
}

/** Markdown for the FROM image under `position`, or undefined when Silo has nothing to add. */
export function baseImageHover(file: Dockerfile, stages: readonly Stage[], position: Position, host: HostFacts | undefined, images: readonly ImageFact[]): string | undefined {
  const stage = stages.find((s) => s.from.startLine <= position.line && position.line <= s.from.endLine);
  if (!stage || stage.parent || !stage.baseWord || !stage.rootImage || stage.facts.windows !== true) return undefined;
  const r = stage.from.rangeOf(stage.baseWord.start, stage.baseWord.end);
  const inside =
    (position.line > r.start.line || (position.line === r.start.line && position.character >= r.start.character)) &&
    (position.line < r.end.line || (position.line === r.end.line && position.character <= r.end.character));
  if (!inside) return undefined;
  const local = findLocalImage(stage.rootImage, images);
  const localBuild = local?.osVersion ? parseWindowsVersion(local.osVersion)?.build : undefined;
  const build = localBuild ?? (stage.rootImage.tag ? buildFromImageTag(stage.rootImage.tag) : undefined);
  const lines: string[] = [];
  lines.push(build !== undefined ? `**Windows image**, build ${describe(build)}${localBuild !== undefined ? ' (local image)' : ' (from its tag)'}` : '**Windows image** (its build is not in the tag)');
  if (host?.os === 'linux') lines.push('This host is Linux: build and run it on a Windows host.');
  else if (host?.os === 'windows' && host.build !== undefined && build !== undefined) {
    const modes = (['process', 'hyperv'] as const).map((iso) => {
      const ok = checkWindowsCompatibility(host.build!, build, iso).compatible;
      const available = host.isolations.includes(iso);
      return `${iso === 'hyperv' ? 'Hyper-V' : 'process'} ${ok ? '✓' : '✗'}${available ? '' : ' (not available here)'}${iso === host.defaultIsolation ? ' (default)' : ''}`;
    });
    lines.push(`On this host, build ${describe(host.build)}: ${modes.join(' · ')}`);
  }
  return lines.join('\n\n');
}
