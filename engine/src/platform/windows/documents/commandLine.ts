// argv -> one Windows command line, the inverse of CommandLineToArgvW / the MSVC runtime's parser
// (the rule Go's syscall.EscapeArg and Docker on Windows follow): quote an argument that is empty or
// holds a space or tab; double backslashes only where they precede a quote or the closing quote.

export function escapeWindowsArg(arg: string): string {
  if (arg === '') return '""';
  if (!/[\s"\\]/.test(arg)) return arg;
  const quote = /[ \t]/.test(arg);
  let out = quote ? '"' : '';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      out += ch;
    } else if (ch === '"') {
      out += '\\'.repeat(slashes + 1) + ch;
      slashes = 0;
    } else {
      slashes = 0;
      out += ch;
    }
  }
  if (quote) out += '\\'.repeat(slashes) + '"';
  return out;
}

/**
 * The CommandLine of a process. `argsEscaped` is the image config's ArgsEscaped (Windows shell form:
 * the arguments are already one command line), where Docker joins them with spaces unchanged.
 */
export function windowsCommandLine(args: string[], argsEscaped = false): string {
  return args.map((a) => (argsEscaped ? a : escapeWindowsArg(a))).join(' ');
}
