// The read-only `silo:` file system: a container's files (silo://container/<id>/<path>), the same
// path in its image (silo://image/<id>/<path>), and a file of one image layer
// (silo://layer/<image id>/<n>/<path>), read through the engine. It backs the diff editor and the Layers view.
import * as vscode from 'vscode';
import * as P from '../../../engine/src/protocol';
import { ResponseError } from 'vscode-jsonrpc';
import { parseSiloAddress } from '../model/siloUri';
import { errorText, type EngineClient } from '../engine/engineClient';

const TYPE: Record<P.ContainerFile['type'], vscode.FileType> = {
  file: vscode.FileType.File,
  directory: vscode.FileType.Directory,
  symlink: vscode.FileType.SymbolicLink,
  other: vscode.FileType.Unknown,
};

export class SiloFileSystem implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  /** stat and readFile come in pairs: one engine read serves both for a moment. */
  private readonly recent = new Map<string, { at: number; file: Promise<P.ContainerFile> }>();

  constructor(private readonly engine: EngineClient) {}

  private read(uri: vscode.Uri): Promise<P.ContainerFile> {
    const key = uri.toString();
    const hit = this.recent.get(key);
    if (hit && Date.now() - hit.at < 2000) return hit.file;
    const a = parseSiloAddress(uri.authority, uri.path);
    if (!a) throw vscode.FileSystemError.FileNotFound(uri);
    const request =
      a.view === 'layer'
        ? this.engine.request(P.ImageLayerReadFileRequest.type, { ref: `sha256:${a.imageId}`, index: a.index, path: a.path })
        : this.engine.request(P.ContainerReadFileRequest.type, { id: a.containerId, path: a.path, view: a.view });
    const file = request.catch((err: unknown) => {
      if (err instanceof ResponseError && (err.data as P.ErrorData | undefined)?.kind === 'NotFound') throw vscode.FileSystemError.FileNotFound(uri);
      throw vscode.FileSystemError.Unavailable(errorText(err));
    });
    this.recent.set(key, { at: Date.now(), file });
    for (const [k, v] of this.recent) if (Date.now() - v.at > 5000) this.recent.delete(k);
    return file;
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const f = await this.read(uri);
    return { type: TYPE[f.type], size: f.size, mtime: f.mtime, ctime: f.mtime, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const f = await this.read(uri);
    if (f.type === 'symlink') return new TextEncoder().encode(`symbolic link to ${f.target ?? '?'}\n`);
    if (f.type !== 'file') throw vscode.FileSystemError.FileIsADirectory(uri);
    return Buffer.from(f.data ?? '', 'base64');
  }

  readDirectory(): [string, vscode.FileType][] {
    // Listing is not offered: the Layers view names the files that changed.
    return [];
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  createDirectory(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  writeFile(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  delete(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  rename(uri: vscode.Uri): void {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}
