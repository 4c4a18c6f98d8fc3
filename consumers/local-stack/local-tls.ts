import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';

export interface LocalTls {
  /** The CA that signed `cert`: what a client trusts (Fluent Bit's `tls.ca_file`). */
  readonly caFile: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

interface GeneratedPems {
  readonly private: string;
  readonly cert: string;
}

interface Selfsigned {
  generate(
    attrs: { name: string; value: string }[],
    options: Record<string, unknown>,
  ): Promise<GeneratedPems>;
}

const require = createRequire(import.meta.url);
const TEN_YEARS_MS = 3650 * 24 * 3600 * 1000;

/**
 * A private CA and a server certificate for localhost, 127.0.0.1 and ::1, generated on the first
 * call and kept in `dir` (ca.crt, server.crt, server.key) so that a client configured once keeps
 * trusting the endpoint across restarts. A separate CA, rather than one self-signed server
 * certificate, because TLS clients reject a leaf certificate used as its own trust anchor in
 * some configurations. The CA's key is not kept: nothing else is ever signed with it.
 */
export async function ensureLocalTls(
  dir: string,
  options: { shareWithinProcess?: boolean } = {},
): Promise<LocalTls> {
  const caFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  try {
    const [ca, cert, key] = await Promise.all([
      readFile(caFile, 'utf8'),
      readFile(certFile, 'utf8'),
      readFile(keyFile, 'utf8'),
    ]);
    // Files cut short (a kill while an older version wrote them) or edited by hand would fail
    // every start: they are generated again below, as when missing.
    if (usable(ca, cert, key)) return { caFile, ca, cert, key };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Throw-away stacks (tests) reuse one pair per process: RSA key generation costs ~0.5 s each.
  if (options.shareWithinProcess && shared === undefined) shared = generate();
  const pems = await (options.shareWithinProcess && shared !== undefined ? shared : generate());
  await mkdir(dir, { recursive: true });
  // Each file whole or not at all (written aside, then renamed), the key last: a run interrupted
  // before it regenerates everything instead of mixing pairs.
  await writeWhole(caFile, pems.ca);
  await writeWhole(certFile, pems.cert);
  await writeWhole(keyFile, pems.key, 0o600);
  return { caFile, ...pems };
}

const writeWhole = async (file: string, text: string, mode?: number): Promise<void> => {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, mode === undefined ? {} : { mode });
  await rename(temp, file);
};

/** Whether the CA parses and the server certificate and key parse and belong together. */
const usable = (ca: string, cert: string, key: string): boolean => {
  try {
    new X509Certificate(ca);
    createSecureContext({ cert, key });
    return true;
  } catch {
    return false;
  }
};

let shared: Promise<Omit<LocalTls, 'caFile'>> | undefined;

async function generate(): Promise<Omit<LocalTls, 'caFile'>> {
  const selfsigned = require('selfsigned') as Selfsigned;
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + TEN_YEARS_MS);
  const common = { keySize: 2048, algorithm: 'sha256', notBeforeDate, notAfterDate };
  const authority = await selfsigned.generate([{ name: 'commonName', value: 'Shardline local CA' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: { key: authority.private, cert: authority.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { ca: authority.cert, cert: server.cert, key: server.private };
}
