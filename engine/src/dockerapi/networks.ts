// Networks and volumes: Silo has neither as objects. Each container gets its own network namespace
// with loopback and its published ports (Docker's "none" network plus port proxies), and data lives in
// bind mounts. The list routes say exactly that, so `docker network ls` and `docker volume ls` work;
// creating either is a clear "not supported".
import { createHash } from 'node:crypto';
import { notFound, notImplemented } from '../errors';
import { route, type Ctx, type Route } from './router';

const NONE_ID = createHash('sha256').update('silo network none').digest('hex');

function noneNetwork() {
  return {
    Name: 'none',
    Id: NONE_ID,
    Created: '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: 'null',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
  };
}

function inspectNetwork(ctx: Ctx) {
  const key = ctx.params[0];
  if (key !== 'none' && !(key.length >= 3 && NONE_ID.startsWith(key))) throw notFound(`network ${key} not found`);
  ctx.reply.json(200, noneNetwork());
}

function unsupported(what: string) {
  return () => {
    throw notImplemented(`${what} is not supported by Silo`, 'containers get their own network namespace with published ports (-p), and data goes in bind mounts (-v /host/path:/path)');
  };
}

export const networkRoutes: Route[] = [
  route('GET', '/networks', (ctx) => ctx.reply.json(200, [noneNetwork()])),
  route('POST', '/networks/create', unsupported('creating networks')),
  route('POST', '/networks/prune', (ctx) => ctx.reply.json(200, { NetworksDeleted: null })),
  route('GET', '/networks/{}', inspectNetwork),
  route('DELETE', '/networks/{}', unsupported('removing networks')),
  route('POST', '/networks/{}/connect', unsupported('connecting containers to networks')),
  route('POST', '/networks/{}/disconnect', unsupported('disconnecting containers from networks')),
  route('GET', '/volumes', (ctx) => ctx.reply.json(200, { Volumes: [], Warnings: null })),
  route('POST', '/volumes/create', unsupported('named volumes')),
  route('POST', '/volumes/prune', (ctx) => ctx.reply.json(200, { VolumesDeleted: null, SpaceReclaimed: 0 })),
  route('GET', '/volumes/{}', (ctx) => {
    throw notFound(`get ${ctx.params[0]}: no such volume`);
  }),
];
