import type {
  _Record,
  Kinesis,
  KinesisClient,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-kinesis';
import type { DeserializeMiddleware, InitializeMiddleware } from '@smithy/types';

/**
 * GetRecords answers decoded by the consumer rather than by the SDK's schema walk.
 *
 * The SDK turns each record of a GetRecords answer into output through a generic, schema-driven
 * path: every `Data` string is checked against a base64 regular expression (7.7–10.5 µs for an
 * 850-byte record), every member is visited by the schema iterator, and the logger middleware
 * walks the whole output again to filter it for a log even when no logger is set. On the event
 * loop that reads every shard, that was ~25 µs a record: `npm start -- --demo-events 20000`
 * spent ~0.5 s of its main thread in it during the burst, and a worker at 100k records/s could
 * not afford it at all.
 *
 * This plugin takes the 200 answer of a GetRecords call before the SDK's deserializer sees it,
 * decodes `Records` with one `JSON.parse` and `Buffer.from(…, 'base64')` per record, and hands
 * the deserializer the same answer without its records (next iterator, lag, child shards: the
 * SDK still reads those, and every error answer, as before). The records are put back into the
 * output outside every other middleware (so an SDK logger, if one is set, logs GetRecords
 * answers without their records), and callers see the output the SDK would have given:
 * `Data` bytes, `ApproximateArrivalTimestamp` as a Date (epoch seconds rounded to the
 * millisecond, as the SDK does), `SequenceNumber`, `PartitionKey`, `EncryptionType`.
 *
 * Anything it does not recognise (a body that is not JSON, a record without its string fields,
 * base64 that is not canonical) is given to the SDK untouched, which decodes it or fails as it
 * always did.
 */

/**
 * Decoded records per HTTP answer: the answer object travels back up through every middleware of
 * its call (a context object can be shared by concurrent calls when a client caches its handlers).
 */
const decoded = new WeakMap<object, _Record[]>();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Decodes a standard, padded base64 string, or undefined if it is not one (Buffer.from skips bad characters). */
const base64Bytes = (s: string): Uint8Array | undefined => {
  if (s.length % 4 !== 0) return undefined;
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(s, 'base64');
  return bytes.byteLength === (s.length / 4) * 3 - padding ? bytes : undefined;
};

const epochDate = (v: unknown): Date | undefined | null => {
  if (v === undefined || v === null) return undefined;
  const seconds =
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(seconds) ? new Date(Math.round(seconds * 1000)) : null;
};

/**
 * The records of a GetRecords answer's body, and the body without them; undefined for a body this
 * decoder does not take (the SDK then reads it as it is).
 */
export const splitGetRecordsBody = (
  body: Uint8Array,
): { records: _Record[]; rest: Uint8Array } | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || !Array.isArray(parsed.Records)) return undefined;
  const raw = parsed.Records as unknown[];
  const records: _Record[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i];
    if (!isObject(r)) return undefined;
    const { Data, SequenceNumber, PartitionKey, ApproximateArrivalTimestamp, EncryptionType } = r;
    if (typeof Data !== 'string' || typeof SequenceNumber !== 'string' || typeof PartitionKey !== 'string') {
      return undefined;
    }
    const data = base64Bytes(Data);
    const arrived = epochDate(ApproximateArrivalTimestamp);
    if (data === undefined || arrived === null) return undefined;
    if (EncryptionType !== undefined && EncryptionType !== null && typeof EncryptionType !== 'string') {
      return undefined;
    }
    const record: _Record = { SequenceNumber, Data: data, PartitionKey };
    if (arrived !== undefined) record.ApproximateArrivalTimestamp = arrived;
    if (typeof EncryptionType === 'string')
      record.EncryptionType = EncryptionType as _Record['EncryptionType'];
    records[i] = record;
  }
  parsed.Records = [];
  return { records, rest: Buffer.from(JSON.stringify(parsed)) };
};

const isAsyncIterable = (v: unknown): v is AsyncIterable<Uint8Array | string> =>
  isObject(v) && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';

/** The whole body of an HTTP answer, or undefined if it is not a form read here. */
const bodyBytes = async (body: unknown): Promise<Uint8Array | undefined> => {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (!isAsyncIterable(body)) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
};

type Stack = KinesisClient['middlewareStack'];

/** Adds the GetRecords decoding described above to a Kinesis client (every client `createKinesisClient` makes has it). */
export const addGetRecordsBodyDecoding = (client: Kinesis | KinesisClient): void => {
  const stack = client.middlewareStack as Stack;
  const takeRecords: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== 'GetRecordsCommand') return result;
      const response = result.response as { statusCode?: number; body?: unknown };
      if (response.statusCode !== 200) return result;
      const bytes = await bodyBytes(response.body);
      // The stream is read: from here the SDK is always handed bytes.
      if (bytes === undefined) return result;
      const split = splitGetRecordsBody(bytes);
      if (split === undefined) {
        response.body = bytes;
        return result;
      }
      decoded.set(response, split.records);
      response.body = split.rest;
      return result;
    };
  stack.addRelativeTo(takeRecords, {
    name: 'shardlineGetRecordsBody',
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
    override: true,
  });
  const putRecords: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    const result = await next(args);
    const response = result.response;
    const records = typeof response === 'object' && response !== null ? decoded.get(response) : undefined;
    if (records !== undefined) {
      decoded.delete(response as object);
      (result.output as { Records?: _Record[] }).Records = records;
    }
    return result;
  };
  stack.add(putRecords, {
    step: 'initialize',
    priority: 'high',
    name: 'shardlineGetRecordsOutput',
    override: true,
  });
};
