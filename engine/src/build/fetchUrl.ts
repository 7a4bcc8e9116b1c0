// ADD <url>: one HTTP(S) GET, the body hashed for the cache and never unpacked (moby copy.go
// noDecompress). The file is named after the URL's last path segment; Last-Modified sets its mtime.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { invalidArgument } from '../errors';

const MAX_BYTES = 1024 ** 3;

export async function fetchUrl(url: string, signal: AbortSignal, redirects = 5): Promise<{ name: string; bytes: Buffer; hash: string; mtime: Date }> {
  const u = new URL(url);
  const get = u.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(u, { signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        fetchUrl(new URL(res.headers.location, u).toString(), signal, redirects - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(invalidArgument(`ADD failed: GET ${url} returned status ${status}`, 'check the URL'));
        return;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_BYTES) req.destroy(invalidArgument(`ADD failed: ${url} is larger than 1 GiB`));
        chunks.push(c);
      });
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const lm = res.headers['last-modified'];
        const name = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '') || '__unnamed__';
        resolve({ name, bytes, hash: createHash('sha256').update(bytes).digest('hex'), mtime: lm ? new Date(lm) : new Date(0) });
      });
      res.on('error', reject);
    });
    req.on('error', (e) => reject(invalidArgument(`ADD failed: GET ${url}: ${e.message}`, 'check the URL and that the host is reachable')));
  });
}
