/**
 * Checks `andon …` command lines quoted in the docs against the real commander program of
 * src/cli/andon.ts: the module is imported with `Command.prototype.parseAsync` replaced, so the
 * program is built exactly as the CLI builds it and handed to us instead of parsing argv.
 */
import { Command, type Option } from 'commander';
import { pathToFileURL } from 'node:url';
import { CLI } from './paths.js';

let program: Command | undefined;

/** The `andon` program as src/cli/andon.ts builds it (nothing runs). */
export async function andonProgram(): Promise<Command> {
  if (program) return program;
  const original = Command.prototype.parseAsync;
  let captured: Command | undefined;
  const keep = (p: Command) => (captured = p);
  Command.prototype.parseAsync = function (this: Command) {
    return Promise.resolve(keep(this));
  } as typeof original;
  try {
    await import(pathToFileURL(CLI).href);
  } finally {
    Command.prototype.parseAsync = original;
  }
  if (!captured) throw new Error('src/cli/andon.ts did not call program.parseAsync()');
  program = captured;
  return program;
}

/** Shell-like words of one command line: quotes kept together, a comment or pipe ends it. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      has = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
      continue;
    }
    // A comment (after whitespace), a pipe, a sequence or a redirect ends the andon command.
    if ((c === '#' && !has) || c === '|' || c === ';' || c === '>' || (c === '&' && line[i + 1] === '&')) break;
    cur += c;
    has = true;
  }
  if (has && !quote) words.push(cur);
  return words;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag || (x.negate && x.long === flag));
    if (o) return o;
  }
  return undefined;
}

/**
 * Problems with one `andon …` line (words after `andon`), or [] when commander would accept it:
 * every word names a (sub)command or an argument, the command runs an action, every option exists
 * on it (or a parent), takes a value when given one, and the argument count fits.
 */
export function checkAndonLine(root: Command, words: string[], opts: { loose?: boolean } = {}): string[] {
  const problems: string[] = [];
  // Synopsis style `[--json]` / `[<flag>]`: the brackets mark optional parts; check what is inside.
  const ws = words.map((w) => w.replace(/^\[+/, '').replace(/\]+$/, '')).filter((w) => w !== '' && w !== '…' && w !== '...');
  // Prose may say "every `andon …` command": a bare `andon` names the CLI, not a command line.
  if (ws.length === 0) return opts.loose ? [] : ['no command after "andon"'];
  let cmd = root;
  let i = 0;
  while (i < ws.length && !ws[i]!.startsWith('-')) {
    const sub = cmd.commands.find((c) => c.name() === ws[i] || c.aliases().includes(ws[i]!));
    if (!sub) break;
    cmd = sub;
    i++;
  }
  // `andon breakers --json` runs the default subcommand (`{ isDefault: true }`) with the rest.
  const defaultName = (cmd as unknown as { _defaultCommandName?: string })._defaultCommandName;
  const byDefault = defaultName && cmd !== root ? cmd.commands.find((c) => c.name() === defaultName) : undefined;
  if (byDefault) cmd = byDefault;
  const path = ['andon', ...ws.slice(0, i)].join(' ');
  if (cmd === root) return [`"${ws[0] ?? ''}" is not an andon command`];
  const positionals: string[] = [];
  for (; i < ws.length; i++) {
    const w = ws[i]!;
    if (w === '--help' || w === '-h') continue;
    if (!w.startsWith('-') || w === '-') {
      positionals.push(w);
      continue;
    }
    const flag = w.includes('=') ? w.slice(0, w.indexOf('=')) : w;
    const opt = findOption(cmd, flag);
    if (!opt) {
      problems.push(`${path}: unknown option ${flag}`);
      continue;
    }
    if (opt.required && !w.includes('=')) {
      if (i + 1 >= ws.length) problems.push(`${path}: option ${flag} needs a value`);
      i++;
    } else if (opt.optional && !w.includes('=') && i + 1 < ws.length && !ws[i + 1]!.startsWith('-')) {
      i++;
    }
  }
  const hasAction = typeof (cmd as unknown as { _actionHandler?: unknown })._actionHandler === 'function';
  if (!hasAction) {
    if (cmd.commands.length > 0 && positionals.length > 0) problems.push(`${path}: no subcommand "${positionals[0]}" (has: ${cmd.commands.map((c) => c.name()).join(', ')})`);
    else if (!hasAction) problems.push(`${path}: not a runnable command (subcommands: ${cmd.commands.map((c) => c.name()).join(', ')})`);
    return problems;
  }
  const args = cmd.registeredArguments;
  const variadic = args.some((a) => a.variadic);
  const required = args.filter((a) => a.required).length;
  if (positionals.length < required && !opts.loose) problems.push(`${path}: ${positionals.length} argument(s) given, ${required} required (${args.map((a) => a.name()).join(', ')})`);
  if (!variadic && positionals.length > args.length) problems.push(`${path}: ${positionals.length} argument(s) given, takes at most ${args.length}: ${positionals.join(' ')}`);
  return problems;
}

/**
 * `andon …` command lines in a Markdown text: lines of fenced code blocks (strict) and inline code
 * spans (loose: prose may name a command without its arguments, e.g. `andon halt`).
 */
export function andonLines(markdown: string): Array<{ line: string; loose: boolean }> {
  const out: Array<{ line: string; loose: boolean }> = [];
  let fenced = false;
  for (const raw of markdown.split('\n')) {
    if (/^\s*```/.test(raw)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      const line = raw.trim().replace(/^\$\s+/, '');
      if (line.startsWith('andon ')) out.push({ line, loose: false });
      continue;
    }
    for (const m of raw.matchAll(/`(andon [^`]+)`/g)) out.push({ line: m[1]!, loose: true });
  }
  return out;
}
