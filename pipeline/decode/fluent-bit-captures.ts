import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Test and bench support: the traffic a real Fluent Bit sent (see shared/fluent-bit/README.md).
 * The captures live beside the repository, not inside it.
 */

const CAPTURES = fileURLToPath(new URL('../../../shared/fluent-bit/captures/', import.meta.url));

export interface CapturedRecord {
  /** PutRecords (or PutRecordBatch) call number, 1-based, and the record's index in it. */
  readonly req: number;
  readonly idx: number;
  readonly partitionKey: string;
  /** The record's Data exactly as Fluent Bit sent it (base64-decoded). */
  readonly data: Uint8Array;
}

/** Every record of a run, from the raw HTTP bodies: `Data` is still compressed for gzip runs. */
export function readCapturedRecords(run: string): CapturedRecord[] {
  const out: CapturedRecord[] = [];
  for (const line of readLines(`${CAPTURES}${run}.jsonl`)) {
    const request = JSON.parse(line) as { n: number; body: string };
    const body = JSON.parse(request.body) as { Records: { Data: string; PartitionKey?: string }[] };
    body.Records.forEach((r, idx) => {
      out.push({
        req: request.n,
        idx,
        partitionKey: r.PartitionKey ?? '',
        data: Buffer.from(r.Data, 'base64'),
      });
    });
  }
  return out;
}

/** The capture's decoded view: each record's Data as text, decompressed. */
export function readDecodedRecords(run: string): { req: number; idx: number; data: string }[] {
  return readLines(`${CAPTURES}decoded/${run}.records.jsonl`).map((l) => JSON.parse(l));
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}
