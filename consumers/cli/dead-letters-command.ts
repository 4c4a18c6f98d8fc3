import { DamagedLetterFile, scrub } from '../../pipeline/dead-letter/dead-letter-sink.ts';
import { decompress } from '../../pipeline/decode/decompress.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import {
  type LetterFilter,
  letterFiles,
  matches,
  readLetterFile,
  redrive,
  type StoredLetter,
} from '../../pipeline/replay/redrive.ts';
import { type LakeContextOptions, lakeContext, loadLakeIntoWarehouse } from './lake-context.ts';

export interface DeadLetterFilterOptions extends LakeContextOptions {
  readonly reason?: string;
  readonly stage?: string;
  readonly shard?: string;
  readonly from?: string;
  readonly to?: string;
}

const when = (field: string, value: string | undefined): Date | undefined => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ConfigError(field, `${JSON.stringify(value)} is not an ISO 8601 date-time`);
  return new Date(ms);
};

const filterOf = (o: DeadLetterFilterOptions): LetterFilter => ({
  reason: o.reason,
  stage: o.stage,
  shard: o.shard,
  from: when('--from', o.from),
  to: when('--to', o.to),
});

const table = (rows: readonly Record<string, unknown>[], columns: readonly string[]): string => {
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((s, i) => s.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    fmt(columns),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => fmt(columns.map((c) => text(r[c])))),
  ].join('\n');
};

const selected = async (o: DeadLetterFilterOptions, err: NodeJS.WritableStream): Promise<StoredLetter[]> => {
  const { store } = lakeContext(o);
  const filter = filterOf(o);
  const out: StoredLetter[] = [];
  // Only the files the range can hold (their dt=/hr= prefixes), never the whole prefix.
  for (const key of await letterFiles(store, filter)) {
    let letters: StoredLetter[];
    try {
      letters = await readLetterFile(store, key);
    } catch (error) {
      // One damaged file must not hide every other letter of the lake: it is named and left out.
      if (!(error instanceof DamagedLetterFile)) throw error;
      err.write(`warning: ${error.message}; its letters are left out\n`);
      continue;
    }
    for (const l of letters) if (matches(l, filter)) out.push(l);
  }
  return out;
};

/**
 * Writes lines to `out` until the reader goes away: on EPIPE (`list … | head`) it stops quietly
 * instead of crashing on the stream's unhandled 'error'. Returns false when the reader left.
 */
const writeAll = async (out: NodeJS.WritableStream, lines: readonly string[]): Promise<boolean> => {
  let gone = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') gone = true;
    else throw error;
  };
  // Test sinks are plain objects with write() only.
  const events = typeof out.on === 'function';
  if (events) out.on('error', onError);
  try {
    for (const line of lines) {
      if (gone) return false;
      if (!out.write(`${line}\n`) && events) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('error', done);
            out.off('close', done);
            resolve();
          };
          out.once('drain', done);
          out.once('error', done);
          out.once('close', done);
        });
      }
    }
    return !gone;
  } finally {
    // A late EPIPE of the last write must still not crash the process.
    if (events) {
      out.off('error', onError);
      out.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
    }
  }
};

/**
 * `shardline dead-letters list`: counts by reason, stage, shard and hour of arrival (or, with
 * `--each`, one line per letter with the reference `show` and `redrive --ref` take).
 */
export async function runDeadLettersList(
  o: DeadLetterFilterOptions & { readonly format: 'table' | 'json'; readonly each?: boolean },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const letters = await selected(o, err);
  let rows: Record<string, unknown>[];
  let columns: string[];
  if (o.each) {
    columns = ['ref', 'reason', 'stage', 'shard', 'arrived', 'bytes', 'scrubbed', 'message'];
    rows = letters.map((l) => ({
      ref: l.ref,
      reason: l.letter.reason,
      stage: l.letter.stage,
      shard: l.letter.shardId,
      arrived: l.letter.arrivedAt.toISOString(),
      bytes: l.letter.data.byteLength,
      scrubbed: l.scrubbed ?? '',
      message: l.letter.message,
    }));
  } else {
    columns = ['reason', 'stage', 'shard', 'hour', 'count'];
    const groups = new Map<string, Record<string, unknown> & { count: number }>();
    for (const l of letters) {
      const hour = `${l.letter.arrivedAt.toISOString().slice(0, 13)}:00Z`;
      const id = [l.letter.reason, l.letter.stage, l.letter.shardId, hour].join('\u0000');
      const g = groups.get(id) ?? {
        reason: l.letter.reason,
        stage: l.letter.stage,
        shard: l.letter.shardId,
        hour,
        count: 0,
      };
      g.count += 1;
      groups.set(id, g);
    }
    rows = [...groups.values()].sort((a, b) => b.count - a.count);
  }
  const total = `${letters.length} dead letter${letters.length === 1 ? '' : 's'}`;
  if (o.format === 'json') {
    // Rows only on stdout (every line the same shape, for jq and DuckDB); the total on stderr.
    await writeAll(
      out,
      rows.map((r) => JSON.stringify(r)),
    );
    err.write(`${total}\n`);
  } else {
    await writeAll(out, [table(rows, columns), `(${total})`]);
  }
  return 0;
}

/** `shardline dead-letters show <ref>`: one letter, its original bytes decoded when they are text. */
export async function runDeadLettersShow(
  ref: string,
  o: LakeContextOptions & { readonly redact?: boolean },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const hash = ref.lastIndexOf('#');
  if (hash < 0)
    throw new ConfigError(
      '<ref>',
      'is <dead-letter file key>#<index>, as `dead-letters list --each` prints it',
    );
  const { store } = lakeContext(o);
  const letters = await readLetterFile(store, ref.slice(0, hash));
  const found = letters[Number(ref.slice(hash + 1))];
  if (found === undefined)
    throw new ConfigError('<ref>', `no letter ${ref}: the file holds ${letters.length}`);
  const l = found.letter;
  const lines = [
    `ref          ${found.ref}`,
    `reason       ${l.reason} (stage ${l.stage})`,
    `message      ${l.message}`,
    `shard        ${l.shardId}`,
    `sequence     ${l.sequenceNumber}${l.subSequence === undefined ? ' (the whole record)' : ` line ${l.subSequence}`}`,
    `partitionKey ${l.partitionKey}`,
    `arrived      ${l.arrivedAt.toISOString()}`,
    `bytes        ${l.data.byteLength}`,
  ];
  if (found.scrubbed !== undefined) {
    lines.push(
      `scrubbed     ${found.scrubbed}: stored with deadLetters.originalBytes "redact"; these are not the bytes as sent and cannot be re-driven byte for byte`,
    );
  }
  let data = l.data;
  if (o.redact === true && found.scrubbed === undefined) {
    const scrubbed = scrub(l.data);
    data = scrubbed.data;
    lines.push(
      `redacted     --redact: ${scrubbed.scrubbed === 'redacted' ? 'secrets scrubbed as deadLetters.originalBytes "redact" would' : 'not text: bytes omitted'}`,
    );
  } else if (found.scrubbed === undefined) {
    err.write(
      'shardline: these are the original bytes as sent: they may hold secrets (tokens, passwords, personal data); --redact scrubs them\n',
    );
  }
  let body: string;
  try {
    const { data: plain, codec } = decompress(data);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(plain);
    body = `${codec === 'none' ? '' : `(${codec}, decompressed)\n`}${escapeControls(text)}`;
  } catch {
    body = `(not text; first 256 bytes in hex)\n${Buffer.from(data.subarray(0, 256)).toString('hex')}`;
  }
  await writeAll(out, [
    `${lines.join('\n')}\n--- data ---\n${body}${body.endsWith('\n') ? '' : '\n'}`.slice(0, -1),
  ]);
  return 0;
}

/**
 * Control characters a terminal would act on (C0 but tab and line feed, ESC among them; DEL; C1)
 * shown as `\xNN` / `\u{NN}`, so a letter cannot move the cursor, recolour or retitle the terminal.
 */
export const escapeControls = (text: string): string =>
  text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  });

/** `shardline dead-letters redrive`: the selection through today's pipeline. */
export async function runDeadLettersRedrive(
  o: DeadLetterFilterOptions & { readonly ref?: string; readonly dryRun: boolean; readonly load: boolean },
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const ctx = lakeContext(o);
  const result = await redrive(ctx.store, ctx.config, { ...filterOf(o), ref: o.ref }, { dryRun: o.dryRun });
  const summary: Record<string, unknown> = { ...result, dryRun: o.dryRun };
  const loaded =
    !o.dryRun && o.load && result.parquetFiles.length > 0 ? await loadLakeIntoWarehouse(ctx) : undefined;
  if (loaded !== undefined) {
    summary.warehouse = { files: loaded.files, newRows: loaded.rows, duplicateRows: loaded.duplicateRows };
  }
  err.write(
    `re-drove ${result.selected} dead letters${o.dryRun ? ' (dry run: nothing written)' : ''}: ${result.passed} now pass (${result.rows} rows in ${result.parquetFiles.length} files), ${result.stillBad} still bad (${result.changed} with a new reason)${result.letterFilesRewritten.length === 0 ? ', nothing changed' : `, ${result.letterFilesRewritten.length} dead-letter files rewritten`}\n`,
  );
  if (result.encodeFailed > 0) {
    err.write(
      `${result.encodeFailed} of them are still refused by the Parquet encoder: kept as encode_failed, the rest of their files landed\n`,
    );
  }
  for (const f of result.filesDamaged) {
    err.write(`${f.key}: left unchanged and not re-driven (${f.error})\n`);
  }
  for (const f of result.filesFailed) {
    err.write(
      `${f.key}: left unchanged, its rows do not encode and none is at fault alone (${f.error}); run it again\n`,
    );
  }
  if (result.notByteExact > 0) {
    err.write(
      `${result.notByteExact} of them were stored with deadLetters.originalBytes "redact" (data_scrubbed): their bytes are not the ones sent, so they cannot be re-driven byte for byte and were left as they are\n`,
    );
  }
  out.write(`${JSON.stringify(summary)}\n`);
  return 0;
}
