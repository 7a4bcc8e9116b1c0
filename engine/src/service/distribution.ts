// The registry use cases behind `silo pull | push | login | logout`: one implementation for cli/,
// rpc/ and the Docker API. The work is registry/'s; this file resolves names, credentials and the
// platform, and publishes a pulled image through ImageService.publish (under the GC lock).
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidArgument, notFound } from '../errors';
import { familiarString, formatReference, normalizeReference, parseReference, repositoryName, DEFAULT_DOMAIN } from '../image/reference';
import type { ImageStore } from '../image/store';
import type { Isolation } from '../image/windowsCompat';
import type { Snapshotter } from '../layers/snapshotter';
import { RegistryClient, type RegistryClientOptions } from '../registry/client';
import type { CredentialSource } from '../registry/auth';
import { CredentialStore, type Credential } from '../registry/credentials';
import { hostPlatform, parsePlatform, type WantedPlatform } from '../registry/platform';
import { Puller, type LayerProgress } from '../registry/pull';
import { pushImage, type PushProgress } from '../registry/push';
import type { ContentStore } from '../store/content';
import type { ImageService } from './images';

export type { LayerProgress, PushProgress };

export interface DistributionOptions {
  root: string;
  content: ContentStore;
  images: ImageStore;
  imageService: ImageService;
  snapshotter: Snapshotter;
  /** The OS whose layers this host unpacks. */
  os: 'linux' | 'windows';
  /** Silo's credential file (default <root>/auth.json) and docker's config.json. */
  credentials?: CredentialStore;
  /** Transport tuning (tests: short timeouts and back-off). */
  client?: Omit<RegistryClientOptions, 'credentials' | 'signal'>;
}

export interface PullOptions {
  /** `--platform os[/arch[/variant]][:osversion]`; default the host. */
  platform?: string;
  /** Windows: the isolation the image must run in (decides which os.version fits). */
  isolation?: Isolation;
  onProgress?: (p: LayerProgress) => void;
  signal?: AbortSignal;
  /** Credentials for this request alone (the Docker API's X-Registry-Auth); never stored. */
  auth?: RequestAuth;
}

/** Credentials a caller passes with one request, for one registry (Docker's AuthConfig). */
export interface RequestAuth extends Credential {
  /** The registry they are for (default: the reference's); for another registry they are not used. */
  serveraddress?: string;
}

export interface PullResult {
  id: string;
  /** The digest the registry serves for the reference (index or manifest). */
  digest: string;
  /** Familiar name as docker prints it on the last line ("docker.io/library/busybox:latest"). */
  reference: string;
  /** Docker's status line: a new image, or the name already pointed at it. */
  status: 'downloaded' | 'up-to-date';
  platform: string;
}

/** "https://host:5000/v1/", "host:5000" -> "host:5000"; Docker Hub's spellings -> "docker.io". */
export function registryDomain(server: string | undefined): string {
  if (!server) return DEFAULT_DOMAIN;
  let s = server.trim().replace(/^[a-z]+:\/\//i, '').split('/')[0].toLowerCase();
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') s = DEFAULT_DOMAIN;
  if (!/^[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:]+\](:\d+)?$/.test(s)) throw invalidArgument(`invalid registry address "${server}"`, 'give a host[:port], e.g. localhost:5000');
  return s;
}

export class DistributionService {
  private readonly puller: Puller;
  readonly credentials: CredentialStore;

  constructor(private readonly opts: DistributionOptions) {
    this.puller = new Puller(opts.content, opts.snapshotter);
    this.credentials = opts.credentials ?? new CredentialStore(path.join(opts.root, 'auth.json'));
  }

  private client(domain: string, signal?: AbortSignal, credentials: CredentialSource = this.credentials): RegistryClient {
    const insecure = (process.env.SILO_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return new RegistryClient(domain, { insecure, ...this.opts.client, credentials: { get: (d) => credentials.get(d) }, signal });
  }

  /** A request's own credentials for its registry, else the stored ones (moby: the AuthConfig in X-Registry-Auth wins). */
  private credentialsFor(domain: string, auth: RequestAuth | undefined): CredentialSource {
    if (!auth || !((auth.username && auth.password) || auth.identityToken)) return this.credentials;
    if (auth.serveraddress && registryDomain(auth.serveraddress) !== domain) return this.credentials;
    const cred: Credential = auth.identityToken ? { username: auth.username, identityToken: auth.identityToken } : { username: auth.username, password: auth.password };
    return { get: async (d) => (d === domain ? cred : this.credentials.get(d)) };
  }

  private wanted(opts: PullOptions): WantedPlatform {
    const host = hostPlatform();
    if (host.os === 'windows') host.osVersion = os.release();
    const w = opts.platform ? parsePlatform(opts.platform, host) : host;
    if (opts.isolation) w.isolation = opts.isolation;
    return w;
  }

  /** `docker pull NAME[:TAG|@DIGEST]`. */
  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    const r = normalizeReference(ref);
    const wanted = this.wanted(opts);
    const pulled = await this.puller.pull(this.client(r.domain, opts.signal, this.credentialsFor(r.domain, opts.auth)), r, { platform: wanted, hostOs: this.opts.os, onProgress: opts.onProgress });
    const id = pulled.config.digest;
    const key = formatReference(r);
    const before = (await this.opts.images.refs())[key];
    const names = [key, ...(r.digest ? [] : [`${repositoryName(r)}@${pulled.digest}`])];
    await this.opts.imageService.publish({
      id,
      manifest: pulled.manifest,
      config: pulled.config,
      layers: pulled.layers,
      created: pulled.configJson.created,
      os: pulled.configJson.os,
      architecture: pulled.configJson.architecture,
      ...(pulled.configJson.variant ? { variant: pulled.configJson.variant } : {}),
      ...(pulled.configJson['os.version'] ? { osVersion: pulled.configJson['os.version'] } : {}),
    }, names, { unpacked: pulled.unpacked });
    const cfg = pulled.configJson;
    return {
      id,
      digest: pulled.digest,
      reference: formatReference(r),
      status: before === id ? 'up-to-date' : 'downloaded',
      platform: `${cfg.os}/${cfg.architecture}${cfg.variant ? `/${cfg.variant}` : ''}${cfg['os.version'] ? `:${cfg['os.version']}` : ''}`,
    };
  }

  /** `docker push NAME[:TAG]`: the image the name points at, under that name's tag. */
  async push(ref: string, opts: { onProgress?: (p: PushProgress) => void; signal?: AbortSignal; chunkSize?: number; auth?: RequestAuth } = {}): Promise<{ digest: string; size: number; tag: string }> {
    const r = parseReference(ref);
    if (r.digest) throw invalidArgument(`cannot push a digest reference (${ref})`, 'push NAME[:TAG]');
    const named = normalizeReference(ref);
    const record = await this.opts.images.lookup(ref);
    if (!record) throw notFound(`An image does not exist locally with the tag: ${familiarString(named)}`, 'tag an image with that name first (silo tag)');
    const others = (await this.opts.images.refsOf(record.id)).filter((n) => n.domain === named.domain && n.path !== named.path).map((n) => n.path);
    const digest = await pushImage(this.client(named.domain, opts.signal, this.credentialsFor(named.domain, opts.auth)), this.opts.content, named.path, named.tag!, {
      manifest: record.manifest,
      config: record.config,
      layers: record.layers.map((l) => l.blob),
    }, { mountFrom: [...new Set(others)], onProgress: opts.onProgress, chunkSize: opts.chunkSize });
    await this.opts.images.tag(`${repositoryName(named)}@${digest}`, record.id);
    return { digest, size: record.manifest.size, tag: named.tag! };
  }

  /** `docker login`: checks the credentials against the registry, then stores them (owner-only). */
  async login(server: string | undefined, username: string, password: string): Promise<{ domain: string }> {
    const domain = registryDomain(server);
    if (!username || !password) throw invalidArgument('a username and a password are required to log in');
    const cred = { username, password };
    await this.client(domain, undefined, { get: async () => cred }).ping();
    await this.credentials.put(domain, cred);
    return { domain };
  }

  /** `docker logout`: forgets Silo's stored credentials for the registry. */
  async logout(server: string | undefined): Promise<{ domain: string; removed: boolean }> {
    const domain = registryDomain(server);
    return { domain, removed: await this.credentials.remove(domain) };
  }
}
