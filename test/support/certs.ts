/** Certificates for TLS tests, made with openssl: a CA, and keys it signed. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * A P-256 key and a certificate in `dir`: NAME-key.pem and NAME.pem, for /CN=SUBJECT, self-signed
 * (a CA) or signed by the CA named `ca` there; `ext`: more X.509 extensions (-addext).
 */
export function makeCert(dir: string, name: string, subject: string, ca?: string, ext: string[] = []): void {
  const f = (n: string) => path.join(dir, n);
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.pem`), '-subj', `/CN=${subject}`,
    ...(ca ? ['-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}-key.pem`), '-addext', 'basicConstraints=critical,CA:FALSE'] : []),
    ...ext.flatMap((e) => ['-addext', e]),
  ];
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}
