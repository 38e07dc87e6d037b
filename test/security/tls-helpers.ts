/**
 * Certificates made in the test: a CA and leaf certificates it signs (for localhost and
 * 127.0.0.1), with the openssl command line, in a temp directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  ca: Buffer;
  /** Makes a leaf certificate with common name `cn`; returns its cert and key file paths. */
  leaf(cn: string): { certFile: string; keyFile: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A fresh CA in a temp directory. */
export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'andon-pki-'));
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=andon test CA']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  const caFile = join(dir, 'ca.crt');
  return {
    dir,
    caFile,
    ca: readFileSync(caFile),
    leaf(cn) {
      openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${cn}.key`, '-out', `${cn}.csr`, '-subj', `/CN=${cn}`]);
      openssl(dir, ['x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${cn}.crt`, '-days', '2', '-extfile', 'ext.cnf']);
      return { certFile: join(dir, `${cn}.crt`), keyFile: join(dir, `${cn}.key`) };
    },
  };
}
