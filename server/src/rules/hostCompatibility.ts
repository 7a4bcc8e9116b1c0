// SILO111: the base image's Windows build against this host's build and isolation, by the engine's one
// compatibility rule (engine/src/image/windowsCompat.ts), so the editor and `silo build` never
// disagree. On a Linux host a Windows stage cannot be built at all. Silent without host facts.
import { buildFromImageTag, checkWindowsCompatibility, parseWindowsVersion, WindowsReleases } from '../../../engine/src/image/windowsCompat';
import { findLocalImage } from '../dockerfile/stages';
import type { Finding, Fix, Rule, RuleContext } from './rule';

const CODE = 'SILO111';

function check(ctx: RuleContext): Finding[] {
  const host = ctx.host;
  if (!host) return [];
  const findings: Finding[] = [];
  for (const stage of ctx.stages) {
    const ref = stage.rootImage;
    if (stage.parent || !ref || stage.facts.windows !== true || !stage.baseWord) continue;
    const range = stage.from.rangeOf(stage.baseWord.start, stage.baseWord.end);
    const shown = stage.base ?? stage.baseWord.text;
    if (host.os !== 'windows') {
      findings.push({
        code: CODE,
        range,
        message: `${shown} is a Windows image: build and run it on a Windows host.`,
        severity: 'warning',
        fixes: [],
      });
      continue;
    }
    if (host.build === undefined) continue;
    const local = findLocalImage(ref, ctx.images);
    const localBuild = local?.osVersion ? parseWindowsVersion(local.osVersion)?.build : undefined;
    const imageBuild = localBuild ?? (ref.tag ? buildFromImageTag(ref.tag) : undefined);
    if (imageBuild === undefined) continue;
    const chosen = checkWindowsCompatibility(host.build, imageBuild, host.defaultIsolation);
    if (chosen.compatible) continue;
    const others = host.isolations.filter((i) => i !== host.defaultIsolation);
    const alternative = others.find((i) => checkWindowsCompatibility(host.build!, imageBuild, i).compatible);
    const fixes: Fix[] = [];
    const suggestTag = chosen.suggest?.tag;
    if (suggestTag && ref.tag && !stage.baseWord.text.includes('$')) {
      const release = WindowsReleases[imageBuild];
      const token = release?.tags.find((t) => new RegExp(`(^|[-_:])${t}($|[-_])`, 'i').test(stage.baseWord!.text.slice(stage.baseWord!.text.lastIndexOf(':'))));
      if (token) {
        const colon = stage.baseWord.text.lastIndexOf(':');
        const newTag = stage.baseWord.text.slice(colon).replace(new RegExp(`(^|[-_:])${token}($|[-_])`, 'i'), `$1${suggestTag}$2`);
        const newText = stage.baseWord.text.slice(0, colon) + newTag;
        fixes.push({ title: `Use ${newText}`, edits: [{ range, newText }], preferred: true });
      }
    }
    const release = WindowsReleases[host.build]?.name;
    const hostName = `this ${host.build}${release ? ` (${release})` : ''} host`;
    findings.push({
      code: CODE,
      range,
      message: alternative
        ? `${shown} needs ${alternative === 'hyperv' ? 'Hyper-V' : 'process'} isolation on ${hostName}; the default here is ${host.defaultIsolation === 'hyperv' ? 'Hyper-V' : 'process'}. ${chosen.reason}`
        : `${shown} does not run on ${hostName} in any isolation it supports. ${chosen.reason}`,
      severity: alternative ? 'warning' : 'error',
      fixes,
    });
  }
  return findings;
}

export const hostCompatibility: Rule = { code: CODE, title: 'Base image build vs this host', check };
