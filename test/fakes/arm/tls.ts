import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExec } from '../../../core/exec/exec.js';
import { createLogger } from '../../../core/log/logger.js';
import { Redactor } from '../../../core/log/redact.js';

export interface SelfSignedCert {
  /** PEM certificate; also the CA to trust, since it signs itself. */
  readonly cert: string;
  readonly key: string;
}

/**
 * The Azure SDK refuses bearer tokens over plain http, so the fake ARM speaks HTTPS. Node cannot mint X.509
 * certificates itself; the openssl CLI (Debian package openssl, also used by the sandbox Key Vault) makes a
 * throwaway self-signed one for 127.0.0.1, through the project's one child-process chokepoint.
 */
export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-arm-tls-'));
  const redactor = new Redactor();
  const exec = createExec({ redactor, log: createLogger({ level: 'silent', redactor }) });
  try {
    await exec('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
