// What the Containers view shows for the engine's container list: groups by state, one row per
// container with its image, ports and uptime (the `docker ps` columns), and the exact contextValue
// the manifest's menus match.
import type { ContainerSummary } from '../../../engine/src/protocol';
import { humanDuration, portsText } from '../../../engine/src/protocol/format';
import { ContextValues } from './viewIds';

export type ContainerGroupKey = 'running' | 'paused' | 'created' | 'exited';

export interface ContainerGroup {
  key: ContainerGroupKey;
  label: string;
  containers: ContainerRow[];
}

export interface ContainerRow {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  running: boolean;
  /** For the icon: running, stopped, failed (exited with a non-zero code), created. */
  icon: 'running' | 'stopped' | 'failed' | 'created' | 'paused';
}

const GROUP_ORDER: ContainerGroupKey[] = ['running', 'paused', 'created', 'exited'];
const GROUP_LABEL: Record<ContainerGroupKey, string> = { running: 'Running', paused: 'Paused', created: 'Created', exited: 'Stopped' };

function groupOf(state: string): ContainerGroupKey {
  if (state === 'running' || state === 'restarting') return 'running';
  if (state === 'paused') return 'paused';
  if (state === 'created') return 'created';
  return 'exited';
}

export { humanDuration, portsText as formatPorts };

export function containerRow(c: ContainerSummary, now: number, startedAt?: string): ContainerRow {
  const group = groupOf(c.state);
  const running = group === 'running' || group === 'paused';
  const parts = [c.image];
  if (c.ports.length) parts.push(portsText(c.ports));
  if (group === 'running' && startedAt) parts.push(`up ${humanDuration(now - Date.parse(startedAt))}`);
  else parts.push(c.status);
  const icon: ContainerRow['icon'] =
    group === 'running' ? 'running' : group === 'paused' ? 'paused' : group === 'created' ? 'created' : c.exitCode ? 'failed' : 'stopped';
  return {
    id: c.id,
    label: c.name,
    description: parts.join(' · '),
    tooltip: [
      `${c.name} (${c.id.slice(0, 12)})`,
      `Image: ${c.image}`,
      `Command: ${c.command}`,
      `Status: ${c.status}`,
      `Isolation: ${c.isolation || 'default'}`,
      ...(c.ports.length ? [`Ports: ${portsText(c.ports)}`] : []),
    ].join('\n'),
    contextValue: running ? ContextValues.containerRunning : ContextValues.containerStopped,
    running,
    icon,
  };
}

/** Non-empty groups in a fixed order (running first); rows sorted newest first within a group. */
export function groupContainers(list: ContainerSummary[], now: number, startedAt: (id: string) => string | undefined = () => undefined): ContainerGroup[] {
  const byGroup = new Map<ContainerGroupKey, ContainerSummary[]>();
  for (const c of list) {
    const g = groupOf(c.state);
    byGroup.set(g, [...(byGroup.get(g) ?? []), c]);
  }
  return GROUP_ORDER.filter((k) => byGroup.has(k)).map((key) => ({
    key,
    label: GROUP_LABEL[key],
    containers: byGroup
      .get(key)!
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created))
      .map((c) => containerRow(c, now, startedAt(c.id))),
  }));
}
