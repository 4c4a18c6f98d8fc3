/**
 * Request-log timestamps to microseconds since the epoch (UTC), exact to the microsecond, which
 * `Date.parse` is not (it keeps milliseconds) and which it would also read zone-less text as local
 * time. Accepts ISO 8601 / RFC 3339 date-times, with or without fraction and zone (no zone means
 * UTC, as Fluent Bit's default `time_key_format` writes), a bare date, or epoch milliseconds.
 */

/** The largest instant a JavaScript Date can hold, which also keeps microseconds inside int64. */
const MAX_EPOCH_MS = 8.64e15;

export function parseTimestampMicros(v: string | number): bigint | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0 || v > MAX_EPOCH_MS) return undefined;
    return BigInt(Math.round(v * 1000));
  }
  return typeof v === 'string' ? parseIso(v) : undefined;
}

function parseIso(s: string): bigint | undefined {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micros = 0;
  let offsetMinutes = 0;
  let i = 10;
  if (i < n) {
    const sep = s.charCodeAt(i);
    if (sep !== 0x54 && sep !== 0x74 && sep !== 0x20) return undefined; // T, t or space
    if (n < i + 6 || s.charCodeAt(i + 3) !== 0x3a) return undefined;
    hour = digits(s, i + 1, 2);
    minute = digits(s, i + 4, 2);
    i += 6;
    if (i < n && s.charCodeAt(i) === 0x3a) {
      second = digits(s, i + 1, 2);
      i += 3;
      if (i < n && (s.charCodeAt(i) === 0x2e || s.charCodeAt(i) === 0x2c)) {
        i++;
        const start = i;
        let scale = 100_000;
        while (i < n) {
          const d = s.charCodeAt(i) - 48;
          if (d < 0 || d > 9) break;
          micros += d * scale;
          scale /= 10;
          i++;
        }
        if (i === start) return undefined;
        micros = Math.floor(micros);
      }
    }
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
    if (i < n) {
      const z = s.charCodeAt(i);
      if (z === 0x5a || z === 0x7a) {
        i++;
      } else if (z === 0x2b || z === 0x2d) {
        const oh = digits(s, i + 1, 2);
        let om = 0;
        i += 3;
        if (i < n && s.charCodeAt(i) === 0x3a) i++;
        if (i < n) {
          om = digits(s, i, 2);
          i += 2;
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
        offsetMinutes = (oh * 60 + om) * (z === 0x2d ? -1 : 1);
      } else {
        return undefined;
      }
    }
    if (i !== n) return undefined;
  }
  const ms =
    (daysFromCivil(year, month, day) * 86_400 + hour * 3_600 + (minute - offsetMinutes) * 60 + second) * 1000;
  if (ms < -MAX_EPOCH_MS || ms > MAX_EPOCH_MS) return undefined;
  const total = ms * 1000 + micros;
  return Number.isSafeInteger(total) ? BigInt(total) : BigInt(ms) * 1000n + BigInt(micros);
}

/** The value of `len` decimal digits at `at`, or -1 if any is not a digit (or missing). */
function digits(s: string, at: number, len: number): number {
  let v = 0;
  for (let k = at; k < at + len; k++) {
    const d = s.charCodeAt(k) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
