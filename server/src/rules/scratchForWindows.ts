// SILO107: `FROM scratch` for a Windows image. Windows containers need a base OS layer chain from
// Microsoft (Nano Server, Server Core, ...); an image built from scratch has none and cannot start
// (container-base-images.md). Fires only when the scratch stage takes files from a Windows stage, so a
// file that mixes in Linux stages stays silent.
import { buildFromImageTag, WindowsReleases } from '../../../engine/src/image/windowsCompat';
import { splitFlags, splitWords } from '../dockerfile/parse';
import type { Stage } from '../dockerfile/stages';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO107';

function sourceStage(stages: readonly Stage[], from: string): Stage | undefined {
  if (/^\d+$/.test(from)) return stages[Number(from)];
  return stages.find((s) => s.name === from.toLowerCase());
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    if (stage.parent || stage.rootImage?.repository !== 'scratch' || !stage.baseWord) continue;
    let windowsSource: Stage | undefined;
    for (const ins of stage.body) {
      if (ins.keyword !== 'COPY') continue;
      const from = splitFlags(splitWords(ins.args, ctx.file.escape)).flags.get('from');
      if (!from) continue;
      const src = sourceStage(ctx.stages, from.text.slice(from.text.indexOf('=') + 1));
      if (src && src !== stage && src.facts.windows === true) {
        windowsSource = src;
        break;
      }
    }
    if (!windowsSource) continue;
    const fixes: Fix[] = [];
    const build = windowsSource.rootImage?.tag ? buildFromImageTag(windowsSource.rootImage.tag) : undefined;
    const tag = build !== undefined ? WindowsReleases[build]?.tags[0] : undefined;
    if (tag) {
      const image = `mcr.microsoft.com/windows/nanoserver:${tag}`;
      fixes.push({
        title: `Start from ${image}`,
        edits: [{ range: stage.from.rangeOf(stage.baseWord.start, stage.baseWord.end), newText: image }],
        preferred: true,
      });
    }
    findings.push({
      code: CODE,
      range: stage.from.rangeOf(stage.baseWord.start, stage.baseWord.end),
      message: `A Windows image cannot start from scratch (it takes files from the Windows stage ${windowsSource.name ?? windowsSource.index}); start from Nano Server or Server Core.`,
      severity: 'error',
      fixes,
    });
  }
  return findings;
}

export const scratchForWindows: Rule = { code: CODE, title: 'FROM scratch for a Windows image', check };
