// The Dockerfile language server (dist/server.js over stdio), with the engine's host and image facts
// pushed to it: silo/hostFacts after `initialized` and on reconnect, silo/imageFacts when images change.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import * as P from '../../engine/src/protocol';
import { HostFactsNotification, ImageFactsNotification, type HostFacts, type ImageFact } from '../../server/src/protocol';
import type { EngineClient } from './engine/engineClient';

export function hostFacts(info: P.EngineInfo): HostFacts {
  const build = info.os === 'windows' ? Number(info.osVersion.split('.')[2]) : undefined;
  return {
    os: info.os,
    ...(build && Number.isFinite(build) ? { build } : {}),
    isolations: info.isolations,
    defaultIsolation: info.defaultIsolation,
  };
}

export async function startLanguageClient(context: vscode.ExtensionContext, engine: EngineClient): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'dockerfile' }],
    synchronize: { configurationSection: 'silo.dockerfile' },
    initializationOptions: { ruleDocsUri: `${vscode.Uri.file(context.asAbsolutePath('docs/rules')).toString()}/` },
    diagnosticCollectionName: 'silo',
  };
  const client = new LanguageClient('silo.dockerfile', 'Silo Dockerfile', serverOptions, clientOptions);
  await client.start();

  const sendHost = () => {
    if (engine.info) void client.sendNotification(HostFactsNotification.type, hostFacts(engine.info));
  };
  let pending: NodeJS.Timeout | undefined;
  const sendImages = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      try {
        const list = await engine.request(P.ImageListRequest.type, {});
        const images: ImageFact[] = [];
        for (const i of list) {
          if (i.repository === '<none>') continue;
          let osVersion: string | undefined;
          if (i.os === 'windows') {
            // The host-compatibility checks need the image's Windows build (its config's os.version).
            const inspect = await engine.request(P.ImageInspectRequest.type, { ref: i.id }).catch(() => undefined);
            const v = inspect?.['OsVersion'];
            if (typeof v === 'string') osVersion = v;
          }
          images.push({ ref: `${i.repository}:${i.tag}`, os: i.os, ...(osVersion ? { osVersion } : {}) });
        }
        void client.sendNotification(ImageFactsNotification.type, { images });
      } catch {
        // The engine is not reachable: the server keeps its last facts.
      }
    }, 200);
  };
  context.subscriptions.push(
    engine.onDidConnect(() => {
      sendHost();
      sendImages();
    }),
    engine.onEvent((e) => {
      if (e.type === 'image') sendImages();
    }),
  );
  if (engine.state === 'running') {
    sendHost();
    sendImages();
  }
  return client;
}
