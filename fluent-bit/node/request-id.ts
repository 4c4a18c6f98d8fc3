import { randomFillSync } from 'node:crypto';

/**
 * The request ids the middleware generates: UUIDv7 (RFC 9562), 48 bits of Unix milliseconds then
 * 74 random bits, in the usual 8-4-4-4-12 hex form.
 *
 * Time-ordered rather than v4 because ids minted together sort together: the consumer's dedupe
 * index and any table or index keyed by request_id get appends at the end instead of inserts
 * scattered over the whole key space, and support can read roughly when a request happened from
 * its id alone. 74 random bits per millisecond keep collisions between pods negligible (a billion
 * ids in the same millisecond still collide with probability below 1 in 10^4).
 */

const IDS_PER_FILL = 256;
const pool = Buffer.alloc(16 * IDS_PER_FILL);
let nextSlot = IDS_PER_FILL;

export function newRequestId(nowMs: number = Date.now()): string {
  // One getrandom call per 256 ids, as node:crypto's randomUUID does with its own cache.
  if (nextSlot === IDS_PER_FILL) {
    randomFillSync(pool);
    nextSlot = 0;
  }
  const b = pool.subarray(nextSlot * 16, nextSlot * 16 + 16);
  nextSlot++;
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
