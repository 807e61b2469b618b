import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** The name in the test server certificate (not the 127.0.0.1 the tests connect to). */
export const SERVER_NAME = 'temporal.test';

interface Pair {
  cert: string;
  key: string;
}

/**
 * A test CA, a server certificate for SERVER_NAME, client certificates `bgc-api` and `bgc-worker` signed by it, and
 * an `outsider` client certificate of another CA, made with the openssl CLI in `dir`: { cert, key } file paths.
 */
export function testCertificates(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const pair = (name: string): Pair => ({
    cert: path.join(dir, `${name}.pem`),
    key: path.join(dir, `${name}.key`),
  });
  /** A new P-256 key for `name`, and a request (or with -x509 a self-signed certificate) for CN=name. */
  const request = (name: string, out: string, ...extra: string[]) =>
    openssl('req', ...extra, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', pair(name).key, '-out', out, '-subj', `/CN=${name}`); // prettier-ignore
  function ca(name: string): Pair {
    request(name, pair(name).cert, '-x509', '-days', '1');
    return pair(name);
  }
  function leaf(name: string, signer: Pair, extensions: string): Pair {
    const csr = path.join(dir, `${name}.csr`);
    const ext = path.join(dir, `${name}.ext`);
    writeFileSync(ext, extensions);
    request(name, csr);
    openssl('x509', '-req', '-in', csr, '-CA', signer.cert, '-CAkey', signer.key, '-CAcreateserial',
      '-days', '1', '-out', pair(name).cert, '-extfile', ext); // prettier-ignore
    return pair(name);
  }
  const client = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';
  const rootCa = ca('ca');
  const otherCa = ca('other-ca');
  return {
    ca: rootCa,
    server: leaf(
      'server',
      rootCa,
      `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${SERVER_NAME}\n`,
    ),
    api: leaf('bgc-api', rootCa, client),
    worker: leaf('bgc-worker', rootCa, client),
    outsider: leaf('outsider', otherCa, client),
  };
}
