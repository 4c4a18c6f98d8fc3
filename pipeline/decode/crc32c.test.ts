import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from './crc32c.ts';

function bitwiseCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('agrees with a bit-by-bit reference at every alignment', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let len = 0; len <= 40; len++) {
      const part = data.subarray(len, len * 7);
      expect(crc32c(part)).toBe(bitwiseCrc32c(part));
    }
  });

  it('masks as the snappy framing format specifies', () => {
    const c = crc32c(Uint8Array.of(1, 2, 3));
    expect(maskedCrc32c(Uint8Array.of(1, 2, 3))).toBe(
      ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32,
    );
  });
});
