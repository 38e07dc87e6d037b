/**
 * The dashboard's static files: plain HTML, CSS and JavaScript in the package's top-level
 * `dashboard/` folder (no build step; listed in package.json "files"). They are read once, at
 * mount, from the path relative to this module, which is the same in the repository
 * (dist/src/dashboard → dashboard/) and in an installed package.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder the files are read from. */
export const ASSET_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

/** Files served under /dashboard/assets/, with their content types. */
export const ASSET_TYPES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/** The pages, filled in per request (`{{…}}` placeholders). */
export const PAGES = ['index.html', 'login.html'] as const;

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Reads every file; throws naming the folder when one is missing (a packaging error). */
export function loadAssets(dir = ASSET_DIR): { files: Map<string, Asset>; pages: Record<(typeof PAGES)[number], string> } {
  const files = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    const body = readFileSync(dir + name);
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return { files, pages: { 'index.html': readFileSync(dir + 'index.html', 'utf8'), 'login.html': readFileSync(dir + 'login.html', 'utf8') } };
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
