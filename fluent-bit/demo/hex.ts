/**
 * Fixed-width lower-case hex without `Number#toString(16)`, which costs ~100 ns a call and was the
 * largest item in the generator's profile (ids, trace ids and UUIDs need several per log).
 */
const BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export const hex = {
  /** 8 hex digits of the low 32 bits of `n`. */
  u32: (n: number): string =>
    (BYTE[(n >>> 24) & 255] as string) +
    (BYTE[(n >>> 16) & 255] as string) +
    (BYTE[(n >>> 8) & 255] as string) +
    (BYTE[n & 255] as string),
  /** 4 hex digits of the low 16 bits of `n`. */
  u16: (n: number): string => (BYTE[(n >>> 8) & 255] as string) + (BYTE[n & 255] as string),
} as const;
