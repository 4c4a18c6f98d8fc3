import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalTls } from '../../consumers/local-stack/local-tls.ts';

/** The dev stack's TLS files (Fluent Bit's `tls.ca_file` trusts them) across restarts. */

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-tls-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ensureLocalTls', () => {
  it('keeps whole files across restarts, so a client configured once keeps trusting the endpoint', async () => {
    const first = await ensureLocalTls(dir);
    const again = await ensureLocalTls(dir);
    expect(again).toEqual(first);
    expect(() => createSecureContext({ cert: again.cert, key: again.key })).not.toThrow();
  }, 30_000);

  it('generates the files again when the key was cut short, instead of failing every start', async () => {
    // Prepare: a key written halfway (a kill while it was written).
    const before = await ensureLocalTls(dir);
    const keyFile = join(dir, 'server.key');
    await writeFile(keyFile, before.key.slice(0, before.key.length >> 1));

    // Act
    const after = await ensureLocalTls(dir);

    // Assess
    expect(after.ca).not.toBe(before.ca);
    expect(() => createSecureContext({ cert: after.cert, key: after.key })).not.toThrow();
    expect(await readFile(keyFile, 'utf8')).toBe(after.key);
  }, 30_000);
});
