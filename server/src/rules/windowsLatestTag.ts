// SILO110: `latest` (or no tag) on Microsoft's Windows base OS images. None has been published since
// 2019 (Virtualization-Documentation version-compatibility.md), so the pull fails; and the tag is what
// decides host compatibility, so it should be chosen on purpose.
import { checkWindowsCompatibility, WindowsReleases } from '../../../engine/src/image/windowsCompat';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO110';
/** LTSC releases newest first: the tags to offer. */
const LTSC_BUILDS = [26100, 20348, 17763];

function suggestedTags(hostBuild: number | undefined): string[] {
  if (hostBuild === undefined) return ['ltsc2025', 'ltsc2022'];
  const process = LTSC_BUILDS.find((b) => checkWindowsCompatibility(hostBuild, b, 'process').compatible);
  if (process !== undefined) return [WindowsReleases[process].tags[0]];
  const hyperv = LTSC_BUILDS.find((b) => checkWindowsCompatibility(hostBuild, b, 'hyperv').compatible);
  return hyperv !== undefined ? [WindowsReleases[hyperv].tags[0]] : ['ltsc2025', 'ltsc2022'];
}

function check(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    const ref = stage.rootImage;
    if (stage.parent || !ref || !stage.facts.windowsBaseOs || ref.digest || !stage.baseWord) continue;
    if (ref.tag !== undefined && ref.tag.toLowerCase() !== 'latest') continue;
    if (stage.baseWord.text.includes('$')) continue; // the tag comes from a variable: say nothing
    const range = stage.from.rangeOf(stage.baseWord.start, stage.baseWord.end);
    const name = stage.baseWord.text.replace(/:latest$/i, '');
    const host = ctx.host?.os === 'windows' ? ctx.host.build : undefined;
    const fixes: Fix[] = suggestedTags(host).map((tag, i) => ({
      title: `Use ${name}:${tag}`,
      edits: [{ range, newText: `${name}:${tag}` }],
      preferred: i === 0,
    }));
    findings.push({
      code: CODE,
      range,
      message: `${name} has no \`latest\` tag (Microsoft stopped publishing it in 2019); name the Windows release, e.g. :${suggestedTags(host)[0]}.`,
      severity: 'error',
      fixes,
    });
  }
  return findings;
}

export const windowsLatestTag: Rule = { code: CODE, title: '`latest` on a Windows base image', check };
