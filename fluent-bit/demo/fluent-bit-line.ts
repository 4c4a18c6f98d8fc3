/**
 * A request log as Fluent Bit's `kinesis_streams` output writes it into a record's Data, byte for
 * byte (see fluent-bit/README.md and the captures):
 *
 * - one JSON object, keys in the app's order, then `\n`;
 * - `fb_time` (the output's `time_key`) appended as the last key; a key the app already had
 *   under that name is dropped, as Fluent Bit keeps only the last of duplicate keys;
 * - every non-ASCII character escaped as lower-case `\uXXXX` (surrogate pairs above U+FFFF);
 * - floats re-printed by msgpack-to-JSON with C's `%.16g`, integral floats as `%.1f`. A JS
 *   integer was an integer in the app's line too, so it stays an integer.
 */

/** `time_key_format %Y-%m-%dT%H:%M:%S.%3NZ`, the format of the project's sidecar configs. */
export type FbTime = string | number | Date;

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_ALL = /[^\x00-\x7f]/g;
const escapeUnit = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** C's `printf("%.16g", x)` for a finite, non-integral double. */
export const formatDouble16g = (x: number): string => {
  const abs = Math.abs(x);
  // In this range both use fixed notation and round the exact value the same way (no ties).
  if (abs >= 1e-4 && abs < 1e14) return stripZeros(x.toPrecision(16));
  const exp = abs >= 1e14 ? halfEven16(x) : x.toExponential(15);
  const e = exp.indexOf('e');
  const power = Number(exp.slice(e + 1));
  if (power < -4 || power >= 16) {
    const mantissa = stripZeros(exp.slice(0, e));
    const p = Math.abs(power);
    return `${mantissa}e${power < 0 ? '-' : '+'}${p < 10 ? '0' : ''}${p}`;
  }
  return stripZeros(Number(exp).toFixed(15 - power));
};

/**
 * JS rounds exact ties away from zero, C to even. A double can only sit exactly half-way at the
 * 17th significant digit when it has at most two binary fraction digits and 15-16 integer
 * digits, hence the magnitude guard at the call site.
 */
const halfEven16 = (x: number): string => {
  const up = x.toExponential(15);
  const long = x.toExponential(40);
  const e = long.indexOf('e');
  // Digit 17 sits 25 characters before the `e` (`d.` then 40 digits); digit 16 just before it.
  const tie = long.charCodeAt(e - 25) === 53 && /^0+$/.test(long.slice(e - 24, e));
  if (!tie) return up;
  const lastKept = long.charCodeAt(e - 26) - 48;
  return lastKept % 2 === 0 ? long.slice(0, e - 25) + long.slice(e) : up;
};

const stripZeros = (s: string): string => {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return s.slice(0, end);
};

const value = (v: unknown): string => {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (Number.isInteger(v) || !Number.isFinite(v)) return JSON.stringify(v);
      return formatDouble16g(v);
    case 'object':
      if (v === null) return 'null';
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function')
        return value((v as { toJSON: () => unknown }).toJSON());
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + value(v[i] ?? null);
        return `${out}]`;
      }
      return object(v as Record<string, unknown>, undefined);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return 'null';
  }
};

const object = (o: Record<string, unknown>, skip: string | undefined): string => {
  let out = '{';
  for (const key in o) {
    const v = o[key];
    if (v === undefined || key === skip) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${value(v)}`;
  }
  return `${out}}`;
};

/** True when some float prints differently under `%.16g` than under JS's shortest round-trip form. */
const hasReprintedFloat = (v: unknown): boolean => {
  if (typeof v === 'number')
    return !Number.isInteger(v) && Number.isFinite(v) && formatDouble16g(v) !== String(v);
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return v.some(hasReprintedFloat);
  for (const key in v) if (hasReprintedFloat((v as Record<string, unknown>)[key])) return true;
  return false;
};

const formatTime = (t: FbTime): string => (typeof t === 'string' ? t : new Date(t).toISOString());

/**
 * The Data of one Kinesis record for `log` (no compression, no aggregation), newline included.
 * The text is pure ASCII, so its UTF-8 (or latin1) encoding is the exact bytes Fluent Bit sends.
 * `fbTime`: a string is written as is; a number (epoch ms) or Date as `2025-01-15T10:00:00.000Z`.
 */
export const toFluentBitLine = (log: object, fbTime: FbTime): string => {
  // V8's JSON.stringify is several times faster than `object`; use it whenever it gives the same text.
  const json =
    Object.hasOwn(log, 'fb_time') || hasReprintedFloat(log)
      ? object(log as Record<string, unknown>, 'fb_time')
      : JSON.stringify(log);
  let body = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"fb_time":${JSON.stringify(formatTime(fbTime))}}\n`;
  if (NON_ASCII.test(body)) body = body.replace(NON_ASCII_ALL, escapeUnit);
  return body;
};
