// The language server: a thin adapter from LSP to dockerfile-language-service (the generic features)
// and to Silo's own checks (rules/). It keeps per-document state only: the text, the last check
// result, the settings pulled for that document, and the build-cache hints the builder sent.
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  DiagnosticSeverity,
  DidChangeConfigurationNotification,
  MarkupKind,
  SemanticTokenModifiers,
  SemanticTokenTypes,
  TextDocumentSyncKind,
  TextDocuments,
  type CodeAction,
  type CodeLens,
  type Connection,
  type Diagnostic,
  type InitializeParams,
  type InitializeResult,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CommandIds, DockerfileLanguageServiceFactory, type DockerfileLanguageService } from 'dockerfile-language-service';
import { baseImageHover } from './baseImageHover';
import { filterLibraryDiagnostics, textForValidator } from './libraryView';
import {
  BuildCacheHintsNotification,
  HostFactsNotification,
  ImageFactsNotification,
  type BuildCacheHints,
  type HostFacts,
  type ImageFact,
  type ImageFacts,
} from './protocol';
import { findRuleDocsUri, ruleDocUri } from './ruleDocs';
import { checkDockerfile, type CheckResult, type Finding, type Fix, type Severity } from './rules/index';
import { skipFixes } from './rules/skipDirectives';
import { asSettings, ruleSeverities, SETTINGS_SECTION, validatorSettings, type DockerfileSettings } from './settings';

export const SOURCE = 'silo';

/** The dockerfile-language-service commands this server executes (its quick fixes). */
export const LIBRARY_COMMANDS: string[] = Object.values(CommandIds);

interface Checked {
  version: number;
  result: CheckResult;
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

function sameRange(a: Diagnostic['range'], b: Diagnostic['range']): boolean {
  return (
    a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character
  );
}

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const service: DockerfileLanguageService = DockerfileLanguageServiceFactory.createLanguageService();
  service.setLogger({ log: (message) => connection.console.log(message) });

  const settingsByUri = new Map<string, Promise<DockerfileSettings>>();
  const checked = new Map<string, Checked>();
  const cacheHints = new Map<string, BuildCacheHints>();
  let globalSettings: DockerfileSettings = {};
  let host: HostFacts | undefined;
  let images: ImageFact[] = [];
  let configurationSupport = false;
  let documentChangesSupport = false;
  let codeLensRefreshSupport = false;
  let docsBase: string | undefined;

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const caps = params.capabilities;
    configurationSupport = caps.workspace?.configuration === true;
    documentChangesSupport = caps.workspace?.workspaceEdit?.documentChanges === true;
    codeLensRefreshSupport = caps.workspace?.codeLens?.refreshSupport === true;
    const options = (params.initializationOptions ?? {}) as { ruleDocsUri?: string };
    docsBase = typeof options.ruleDocsUri === 'string' ? options.ruleDocsUri : findRuleDocsUri();
    const completionItem = caps.textDocument?.completion?.completionItem;
    service.setCapabilities({
      completion: {
        completionItem: {
          deprecatedSupport: completionItem?.deprecatedSupport,
          documentationFormat: completionItem?.documentationFormat,
          snippetSupport: completionItem?.snippetSupport,
        },
      },
      hover: { contentFormat: caps.textDocument?.hover?.contentFormat },
      foldingRange: {
        lineFoldingOnly: caps.textDocument?.foldingRange?.lineFoldingOnly,
        rangeLimit: caps.textDocument?.foldingRange?.rangeLimit ?? Number.MAX_VALUE,
      },
    });
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { resolveProvider: true, triggerCharacters: ['=', ' ', '$', '-'] },
        hoverProvider: true,
        signatureHelpProvider: { triggerCharacters: ['-', '[', ',', ' ', '='] },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        executeCommandProvider: { commands: LIBRARY_COMMANDS },
        documentFormattingProvider: true,
        documentRangeFormattingProvider: true,
        documentOnTypeFormattingProvider: { firstTriggerCharacter: '\\', moreTriggerCharacter: ['`'] },
        documentSymbolProvider: true,
        documentHighlightProvider: true,
        definitionProvider: true,
        renameProvider: caps.textDocument?.rename?.prepareSupport ? { prepareProvider: true } : true,
        foldingRangeProvider: true,
        documentLinkProvider: { resolveProvider: true },
        codeLensProvider: { resolveProvider: false },
        semanticTokensProvider: {
          full: { delta: false },
          // The legend dockerfile-language-service's token indices refer to, in its order.
          legend: {
            tokenTypes: [
              SemanticTokenTypes.keyword,
              SemanticTokenTypes.comment,
              SemanticTokenTypes.parameter,
              SemanticTokenTypes.property,
              SemanticTokenTypes.namespace,
              SemanticTokenTypes.class,
              SemanticTokenTypes.macro,
              SemanticTokenTypes.string,
              SemanticTokenTypes.variable,
              SemanticTokenTypes.operator,
            ],
            tokenModifiers: [SemanticTokenModifiers.declaration, SemanticTokenModifiers.definition, SemanticTokenModifiers.deprecated],
          },
        },
      },
      serverInfo: { name: 'silo-dockerfile' },
    };
  });

  connection.onInitialized(() => {
    if (configurationSupport) void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
  });

  // --- settings: pulled per document, forgotten on change and on close ---

  function settingsFor(uri: string): Promise<DockerfileSettings> {
    if (!configurationSupport) return Promise.resolve(globalSettings);
    let s = settingsByUri.get(uri);
    if (!s) {
      s = connection.workspace.getConfiguration({ scopeUri: uri, section: SETTINGS_SECTION }).then(asSettings, () => ({}));
      settingsByUri.set(uri, s);
    }
    return s;
  }

  connection.onDidChangeConfiguration((change) => {
    settingsByUri.clear();
    if (!configurationSupport) {
      const all = asSettings(change.settings) as { silo?: { dockerfile?: unknown } };
      globalSettings = asSettings(all.silo?.dockerfile);
    }
    revalidateAll();
  });

  // --- diagnostics ---

  function toDiagnostic(f: Finding): Diagnostic {
    const href = ruleDocUri(docsBase, f.code);
    return { range: f.range, severity: SEVERITY[f.severity], code: f.code, codeDescription: href ? { href } : undefined, source: SOURCE, message: f.message };
  }

  function check(doc: TextDocument, settings: DockerfileSettings): CheckResult {
    const result = checkDockerfile(doc.getText(), { host, images, severities: ruleSeverities(settings) });
    checked.set(doc.uri, { version: doc.version, result });
    return result;
  }

  function currentCheck(doc: TextDocument): Promise<CheckResult> {
    const c = checked.get(doc.uri);
    if (c && c.version === doc.version) return Promise.resolve(c.result);
    return settingsFor(doc.uri).then((s) => check(doc, s));
  }

  async function validate(doc: TextDocument): Promise<void> {
    const settings = await settingsFor(doc.uri);
    // A newer edit or a close while the settings were on their way: that run publishes instead.
    if (documents.get(doc.uri)?.version !== doc.version) return;
    const result = check(doc, settings);
    const library = service.validate(textForValidator(result.file), validatorSettings(settings));
    const diagnostics = [...filterLibraryDiagnostics(library, result.file, result.stages, result.findings), ...result.findings.map(toDiagnostic)];
    await connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  }

  function revalidateAll(): void {
    checked.clear();
    for (const doc of documents.all()) void validate(doc).catch((e: unknown) => connection.console.error(String(e)));
  }

  documents.onDidChangeContent((e) => void validate(e.document).catch((err: unknown) => connection.console.error(String(err))));
  documents.onDidClose((e) => {
    settingsByUri.delete(e.document.uri);
    checked.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onNotification(HostFactsNotification.method, (facts: HostFacts) => {
    host = facts;
    revalidateAll();
  });
  connection.onNotification(ImageFactsNotification.method, (facts: ImageFacts) => {
    images = Array.isArray(facts?.images) ? facts.images : [];
    revalidateAll();
  });
  connection.onNotification(BuildCacheHintsNotification.method, (hints: BuildCacheHints) => {
    cacheHints.set(hints.uri, hints);
    if (codeLensRefreshSupport) void connection.sendRequest(CodeLensRefreshRequest.type);
  });

  // --- code actions: Silo's fixes and skip directives, then the library's ---

  function workspaceEdit(doc: TextDocument, edits: TextEdit[]): WorkspaceEdit {
    if (documentChangesSupport) return { documentChanges: [{ textDocument: { uri: doc.uri, version: doc.version }, edits }] };
    return { changes: { [doc.uri]: edits } };
  }

  function action(doc: TextDocument, fix: Fix, diagnostic: Diagnostic): CodeAction {
    return { title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: fix.preferred, edit: workspaceEdit(doc, fix.edits) };
  }

  connection.onCodeAction(async (params) => {
    const doc = documents.get(params.textDocument.uri);
    if (!doc) return [];
    const actions: CodeAction[] = [];
    const silo = params.context.diagnostics.filter((d) => d.source === SOURCE);
    if (silo.length > 0) {
      const result = await currentCheck(doc);
      for (const d of silo) {
        const finding = result.findings.find((f) => f.code === d.code && sameRange(f.range, d.range));
        if (!finding) continue;
        for (const fix of finding.fixes) actions.push(action(doc, fix, d));
        for (const fix of skipFixes(result.file, finding)) actions.push(action(doc, fix, d));
      }
    }
    const others = params.context.diagnostics.filter((d) => d.source !== SOURCE);
    if (others.length > 0) {
      // The library's types predate LSP 3.18's markup messages: hand it plain-text ones.
      const plain = others.map((d) => ({ ...d, message: typeof d.message === 'string' ? d.message : d.message.value }));
      const commands = service.computeCodeActions(params.textDocument, params.range, { ...params.context, diagnostics: plain });
      for (const command of commands) {
        const edits = service.computeCommandEdits(doc.getText(), command.command, command.arguments ?? []);
        actions.push({ title: command.title, kind: CodeActionKind.QuickFix, edit: workspaceEdit(doc, edits ?? []) });
      }
    }
    return actions;
  });

  connection.onExecuteCommand(async (params) => {
    const args = params.arguments ?? [];
    const uri = typeof args[0] === 'string' ? args[0] : undefined;
    const doc = uri ? documents.get(uri) : undefined;
    if (!doc || !LIBRARY_COMMANDS.includes(params.command)) return null;
    const edits = service.computeCommandEdits(doc.getText(), params.command, args);
    if (edits && edits.length > 0) await connection.workspace.applyEdit(workspaceEdit(doc, edits));
    return null;
  });

  // --- build-cache hints as code lenses ---

  connection.onCodeLens((params): CodeLens[] => {
    const hints = cacheHints.get(params.textDocument.uri);
    if (!hints) return [];
    return hints.steps.map((step) => ({
      range: { start: { line: step.line, character: 0 }, end: { line: step.line, character: 0 } },
      command: { title: step.cached ? 'CACHED' : `cache miss: ${step.reason ?? 'changed'}`, command: '' },
    }));
  });

  // --- the generic features, straight from dockerfile-language-service ---

  const text = (uri: string): string | undefined => documents.get(uri)?.getText();
  const formatter = async (uri: string, options: { tabSize: number; insertSpaces: boolean }) => ({
    ...options,
    ignoreMultilineInstructions: (await settingsFor(uri)).formatter?.ignoreMultilineInstructions === true,
  });

  connection.onCompletion((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? null : service.computeCompletionItems(t, p.position);
  });
  connection.onCompletionResolve((item) => service.resolveCompletionItem(item));
  connection.onHover(async (p) => {
    const doc = documents.get(p.textDocument.uri);
    if (!doc) return null;
    const hover = service.computeHover(doc.getText(), p.position);
    const result = await currentCheck(doc);
    const extra = baseImageHover(result.file, result.stages, p.position, host, images);
    if (!extra) return hover;
    const base = hover && typeof hover.contents === 'object' && 'kind' in hover.contents ? hover.contents.value : '';
    return { contents: { kind: MarkupKind.Markdown, value: base ? `${base}\n\n---\n\n${extra}` : extra }, range: hover?.range };
  });
  connection.onSignatureHelp((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? null : service.computeSignatureHelp(t, p.position);
  });
  connection.onDocumentHighlight((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.computeHighlightRanges(t, p.position);
  });
  connection.onDefinition((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? null : service.computeDefinition(p.textDocument, t, p.position);
  });
  connection.onRenameRequest((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? null : { changes: { [p.textDocument.uri]: service.computeRename(p.textDocument, t, p.position, p.newName) } };
  });
  connection.onPrepareRename((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? null : service.prepareRename(t, p.position);
  });
  connection.onDocumentSymbol((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.computeSymbols(p.textDocument, t);
  });
  connection.onFoldingRanges((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.computeFoldingRanges(t);
  });
  connection.onDocumentLinks((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.computeLinks(t);
  });
  connection.onDocumentLinkResolve((link) => service.resolveLink(link));
  connection.languages.semanticTokens.on((p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? { data: [] } : service.computeSemanticTokens(t);
  });
  connection.onDocumentFormatting(async (p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.format(t, await formatter(p.textDocument.uri, p.options));
  });
  connection.onDocumentRangeFormatting(async (p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.formatRange(t, p.range, await formatter(p.textDocument.uri, p.options));
  });
  connection.onDocumentOnTypeFormatting(async (p) => {
    const t = text(p.textDocument.uri);
    return t === undefined ? [] : service.formatOnType(t, p.position, p.ch, await formatter(p.textDocument.uri, p.options));
  });

  documents.listen(connection);
  connection.listen();
}
