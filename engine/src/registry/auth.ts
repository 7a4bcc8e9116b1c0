// Authorization for one registry (distribution docs/spec/auth/token.md): anonymous until a 401 says
// how, then Basic with the stored credential, or a Bearer token fetched from the challenge's realm
// for the scopes at hand (basic-authenticated GET, or the OAuth2 POST when only an identity token is
// known). Tokens are cached per scope set until `expires_in` (60 s when missing) and refreshed with a
// refresh token when the server gave one. Secrets never leave this file except in the header sent.
import { SiloError, permissionDenied, unavailable } from '../errors';
import { parseBoundedJson } from '../image/json';
import type { Challenge } from './challenge';
import type { Credential } from './credentials';
import { readBody, send } from './transport';

export interface CredentialSource {
  get(domain: string): Promise<Credential | undefined>;
}

interface Token {
  value: string;
  expiresAt: number;
}

const DEFAULT_EXPIRY_S = 60;

function isPrivateLiteral(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (/^127\.|^10\.|^192\.168\.|^169\.254\.|^172\.(1[6-9]|2\d|3[01])\./.test(h)) return true;
  return h === '::1' || /^f[cd]|^fe80:/i.test(h);
}

export class Authorizer {
  private scheme: 'none' | 'basic' | 'bearer' = 'none';
  private bearer?: { realm: string; service?: string };
  private readonly tokens = new Map<string, Token>();
  private refreshToken?: string;
  private credential?: Credential | null;

  constructor(
    /** The registry's domain as references name it ("docker.io", "localhost:5000"). */
    readonly domain: string,
    /** The registry's endpoint URL the realm is checked against. */
    private readonly endpoint: () => URL,
    private readonly credentials: CredentialSource | undefined,
    private readonly idleTimeoutMs: number,
  ) {}

  private async cred(): Promise<Credential | undefined> {
    if (this.credential === undefined) this.credential = (await this.credentials?.get(this.domain)) ?? null;
    return this.credential ?? undefined;
  }

  /** Whether there is any credential for this registry (for error hints). */
  async hasCredential(): Promise<boolean> {
    return (await this.cred()) !== undefined;
  }

  /** The Authorization header for a request needing `scopes`, or undefined for anonymous. */
  async header(scopes: string[]): Promise<string | undefined> {
    if (this.scheme === 'basic') {
      const c = await this.cred();
      if (c?.username !== undefined && c.password !== undefined) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      return undefined;
    }
    if (this.scheme === 'bearer') {
      const key = scopeKey(scopes);
      const t = this.tokens.get(key);
      if (t && t.expiresAt > Date.now()) return `Bearer ${t.value}`;
      return `Bearer ${await this.fetchToken(scopes)}`;
    }
    return undefined;
  }

  /**
   * Learns from a 401's challenge. Returns false when retrying cannot help: the same scheme and
   * credential were already used for these scopes (a 401 loop).
   */
  async challenged(challenges: Challenge[], scopes: string[], hadAuth: boolean): Promise<boolean> {
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) throw unavailable(`${this.domain} asked for a bearer token without saying where to get one`);
      this.checkRealm(realm);
      const before = this.scheme;
      this.scheme = 'bearer';
      this.bearer = { realm, service: bearer.params.service };
      this.tokens.delete(scopeKey(scopes));
      // A token for these scopes was just refused: the credential lacks access (unless it expired).
      return !(hadAuth && before === 'bearer' && bearer.params.error !== 'invalid_token');
    }
    if (basic) {
      const before = this.scheme;
      this.scheme = 'basic';
      if (!(await this.cred())) return false;
      return !(hadAuth && before === 'basic');
    }
    return false;
  }

  /** Realm URLs are http(s); plain http only for a registry reached over plain http; no private IP of another host. */
  private checkRealm(realm: string): void {
    let u: URL;
    try {
      u = new URL(realm);
    } catch {
      throw unavailable(`${this.domain} sent an invalid token realm`);
    }
    const ep = this.endpoint();
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ep.protocol === 'http:')) {
      throw permissionDenied(`${this.domain} sent a token realm that is not https; refusing to send credentials there`);
    }
    if (isPrivateLiteral(u.hostname) && u.hostname !== ep.hostname) {
      throw permissionDenied(`${this.domain} sent a token realm on a private address of another host; refusing it`);
    }
  }

  private async fetchToken(scopes: string[]): Promise<string> {
    const b = this.bearer!;
    const c = await this.cred();
    const url = new URL(b.realm);
    let res;
    const refresh = c?.identityToken ?? this.refreshToken;
    if (refresh) {
      // OAuth2 refresh-token grant (token.md "OAuth2 Token"); docker sends client_id "docker".
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'silo', ...(b.service ? { service: b.service } : {}) });
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await send({ method: 'POST', url: url.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), idleTimeoutMs: this.idleTimeoutMs });
    } else {
      if (b.service) url.searchParams.set('service', b.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (c?.username) url.searchParams.set('account', c.username);
      const headers: Record<string, string> = {};
      if (c?.username !== undefined && c.password !== undefined) headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
      res = await send({ method: 'GET', url: url.toString(), headers, idleTimeoutMs: this.idleTimeoutMs });
    }
    const body = await readBody(res, 1024 * 1024, 'token response');
    if (res.status === 401 || res.status === 403) {
      throw permissionDenied(`unauthorized: the token server of ${this.domain} refused ${c ? 'the stored credentials' : 'anonymous access'}`, c ? `check them with silo login ${this.domain}` : `log in with silo login ${this.domain}`);
    }
    if (res.status !== 200) throw unavailable(`the token server of ${this.domain} answered ${res.status}`, 'retry later');
    let reply: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      reply = parseBoundedJson(body, 'token response');
    } catch (err) {
      throw new SiloError('Unavailable', `the token server of ${this.domain} sent an unreadable reply`, (err as SiloError).message);
    }
    const value = reply.token || reply.access_token;
    if (!value) throw unavailable(`the token server of ${this.domain} sent no token`);
    if (reply.refresh_token) this.refreshToken = reply.refresh_token;
    const expires = typeof reply.expires_in === 'number' && reply.expires_in > 0 ? reply.expires_in : DEFAULT_EXPIRY_S;
    // Renew a little early so a token does not expire between the check and the request.
    this.tokens.set(scopeKey(scopes), { value, expiresAt: Date.now() + Math.max(1, expires - 5) * 1000 });
    return value;
  }
}

function scopeKey(scopes: string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

/** The challenge's scope first ("some registries only look at the first scope": go-containerregistry bearer.go), then ours. */
export function mergeScopes(scopes: string[], challengeScope: string | undefined): string[] {
  const extra = challengeScope ? challengeScope.split(' ').filter(Boolean) : [];
  return [...new Set([...extra, ...scopes])];
}
