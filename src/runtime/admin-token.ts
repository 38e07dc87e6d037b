/** The admin bearer token of the ops API: given, from the environment, or generated once into the state directory. */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';

/**
 * Resolves the token: `given`, else `ANDON_ADMIN_TOKEN`, else `<stateDir>/admin-token`, which is
 * generated (24 random bytes, base64url, mode 0600) on first start.
 */
export async function loadAdminToken(stateDir: string, log: Logger, given?: string): Promise<string> {
  if (given) return given;
  if (process.env.ANDON_ADMIN_TOKEN) return process.env.ANDON_ADMIN_TOKEN;
  const file = join(stateDir, 'admin-token');
  try {
    const t = (await readFile(file, 'utf8')).trim();
    if (t) return t;
  } catch {
    // First start: generate below.
  }
  const token = randomBytes(24).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  log.info({ file }, 'generated an admin token (mode 0600); ANDON_ADMIN_TOKEN overrides it');
  return token;
}
