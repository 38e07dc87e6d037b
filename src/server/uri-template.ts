/**
 * A small RFC 6570 matcher for resource templates: `{var}` matches one path segment, `{+var}`
 * matches the rest (reserved expansion), `{?a,b}` matches an optional query string. This covers the
 * forms MCP servers use; the regex is compiled once per template.
 */
export class UriTemplate {
  readonly template: string;
  readonly variables: string[] = [];
  private readonly regex: RegExp;
  private readonly queryVars: string[] = [];

  constructor(template: string) {
    this.template = template;
    let pattern = '^';
    let last = 0;
    const re = /\{([+?#/]?)([^}]+)\}/g;
    for (let m = re.exec(template); m; m = re.exec(template)) {
      pattern += escape(template.slice(last, m.index));
      const op = m[1];
      const names = (m[2] ?? '').split(',').map((n) => n.trim());
      if (op === '?') {
        this.queryVars.push(...names);
        this.variables.push(...names);
        pattern += '(?:\\?(.*))?';
      } else {
        const name = names[0] ?? '';
        this.variables.push(name);
        pattern += op === '+' || op === '#' ? '(.+?)' : op === '/' ? '/([^/?#]+)' : '([^/?#]+)';
      }
      last = m.index + m[0].length;
    }
    pattern += `${escape(template.slice(last))}$`;
    this.regex = new RegExp(pattern);
  }

  /** Returns the variables of `uri` when it matches, else null. */
  match(uri: string): Record<string, string> | null {
    const m = this.regex.exec(uri);
    if (!m) return null;
    const out: Record<string, string> = {};
    let g = 1;
    for (const name of this.variables) {
      if (this.queryVars.includes(name)) continue;
      out[name] = safeDecode(m[g++] ?? '');
    }
    if (this.queryVars.length) {
      const q = m[g];
      if (q) {
        for (const [k, v] of new URLSearchParams(q)) if (this.queryVars.includes(k)) out[k] = v;
      }
    }
    return out;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
