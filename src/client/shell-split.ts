/**
 * Splits one command-line string into argv the way a POSIX shell would for a simple command:
 * whitespace separates words; single quotes keep everything literally; double quotes keep
 * whitespace and allow `\"`, `\\`, `\$` and `` \` `` escapes; a backslash outside quotes escapes
 * the next character. No expansion, globbing, pipes or redirections: the command is spawned
 * directly, never through a shell, so nothing in it is interpreted.
 */
import { ClientError } from './errors.js';

/** Splits `command` into words. Throws ClientError `INVALID_ARGUMENT` on an unterminated quote. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = command.length;
  while (i < n) {
    const c = command[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) throw new ClientError('INVALID_ARGUMENT', `Unterminated single quote in command: ${command}`);
      word += command.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = command[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(command[i + 1]!)) {
          if (command[i + 1] !== '\n') word += command[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) throw new ClientError('INVALID_ARGUMENT', `Unterminated double quote in command: ${command}`);
      continue;
    }
    if (c === '\\') {
      if (i + 1 < n) {
        // Backslash-newline is a line continuation; anything else is taken literally.
        if (command[i + 1] !== '\n') word += command[i + 1];
        i += 2;
      } else {
        i++;
      }
      continue;
    }
    word += c;
    i++;
  }
  if (inWord) words.push(word);
  return words;
}
