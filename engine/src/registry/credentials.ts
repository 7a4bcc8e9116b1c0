// Where registry credentials come from, in order: Silo's own store (`silo login`), then docker's
// config.json (auths, credsStore, credHelpers with docker-credential-<name> helpers), as the docker
// CLI and go-containerregistry pkg/authn read them. Secrets stay in these objects: nothing here logs
// or formats them into messages.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidArgument, unavailable } from '../errors';
import { parseBoundedJson } from '../image/json';
import { DEFAULT_DOMAIN } from '../image/reference';
import { writeFileAtomic } from '../store/atomic';
import { withLock } from '../store/lock';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's "identitytoken"); used instead of the password. */
  identityToken?: string;
}

/** Docker Hub's key in config.json (docker/cli registry.IndexServer). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** The key a registry domain has in an `auths` table. */
export function authKey(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_AUTH_KEY : domain;
}

/** "https://host:5000/v1/" or "host:5000" -> "host:5000"; Docker Hub's keys -> "docker.io". */
function keyDomain(key: string): string {
  let k = key.trim();
  k = k.replace(/^[a-z]+:\/\//i, '');
  k = k.split('/')[0];
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') return DEFAULT_DOMAIN;
  return k.toLowerCase();
}

function fromEntry(e: AuthEntry): Credential | undefined {
  if (e.identitytoken) return { username: e.username, identityToken: e.identitytoken };
  if (e.auth) {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i < 0) return undefined;
    return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  if (e.username !== undefined && e.password !== undefined) return { username: e.username, password: e.password };
  return undefined;
}

function lookup(auths: Record<string, AuthEntry> | undefined, domain: string): AuthEntry | undefined {
  if (!auths) return undefined;
  for (const [k, v] of Object.entries(auths)) if (keyDomain(k) === domain) return v;
  return undefined;
}

/** Runs `docker-credential-<helper> get` with the server URL on stdin (docker-credential-helpers protocol). */
export function runCredentialHelper(helper: string, serverURL: string, timeoutMs = 30_000): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) return Promise.reject(invalidArgument(`invalid credential helper name "${helper}"`));
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unavailable(`credential helper docker-credential-${helper} cannot run (${err.code ?? err.message})`, 'install it or remove it from the docker config.json'));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString('utf8');
      // Exit 1 with "credentials not found" is the protocol's "none stored".
      if (code !== 0) {
        resolve(undefined);
        return;
      }
      try {
        const r = JSON.parse(text) as { Username?: string; Secret?: string };
        if (!r.Secret) resolve(undefined);
        else if (r.Username === '<token>') resolve({ identityToken: r.Secret });
        else resolve({ username: r.Username, password: r.Secret });
      } catch {
        reject(invalidArgument(`credential helper docker-credential-${helper} printed something that is not JSON`));
      }
    });
    child.stdin.end(serverURL);
  });
}

/** docker's config.json: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

async function readJson<T>(file: string): Promise<T | undefined> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseBoundedJson<T>(data, file, 1024 * 1024);
}

/** Silo's own credentials, written by `silo login`: an owner-only file in docker's `auths` format. */
export class CredentialStore {
  constructor(
    readonly file: string,
    private readonly dockerConfig: string = dockerConfigPath(),
  ) {}

  /** The credential for a registry domain ("docker.io", "localhost:5000"), or undefined for anonymous. */
  async get(domain: string): Promise<Credential | undefined> {
    const own = lookup((await readJson<DockerConfig>(this.file))?.auths, domain);
    if (own) return fromEntry(own);
    const cfg = await readJson<DockerConfig>(this.dockerConfig);
    if (!cfg) return undefined;
    const helper = Object.entries(cfg.credHelpers ?? {}).find(([k]) => keyDomain(k) === domain)?.[1];
    if (helper) return runCredentialHelper(helper, authKey(domain));
    const entry = lookup(cfg.auths, domain);
    if (entry) {
      const c = fromEntry(entry);
      if (c) return c;
    }
    if (cfg.credsStore) return runCredentialHelper(cfg.credsStore, authKey(domain));
    return undefined;
  }

  /** Stores a credential (owner-only file, written atomically). */
  async put(domain: string, cred: { username: string; password: string }): Promise<void> {
    await this.update((auths) => {
      for (const k of Object.keys(auths)) if (keyDomain(k) === domain) delete auths[k];
      auths[authKey(domain)] = { auth: Buffer.from(`${cred.username}:${cred.password}`).toString('base64') };
    });
  }

  /** Forgets a domain's credential; false when none was stored. */
  async remove(domain: string): Promise<boolean> {
    return this.update((auths) => {
      let found = false;
      for (const k of Object.keys(auths)) {
        if (keyDomain(k) === domain) {
          delete auths[k];
          found = true;
        }
      }
      return found;
    });
  }

  private async update<T>(fn: (auths: Record<string, AuthEntry>) => T): Promise<T> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    return withLock(`${this.file}.lock`, async () => {
      const cfg = (await readJson<DockerConfig>(this.file)) ?? {};
      const auths = cfg.auths ?? {};
      const result = fn(auths);
      await writeFileAtomic(this.file, JSON.stringify({ auths }, null, 2) + '\n', 0o600);
      return result;
    }, { what: 'the credential store' });
  }
}
