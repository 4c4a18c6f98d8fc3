/**
 * A stage thread: decode → validate → enrich → encode for the shard processors of its process
 * (see `thread-stages.ts`). Started with a `StageThreadInit`; starts each processor's
 * `StageRequest`s in the order they arrive (a ready batch's encode may pass other processors'
 * chunks: `request-queue.ts`), one processor's calls always to the same thread, so its rows are
 * here when asked.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ParquetEncoder } from '../encode/parquet-encoder.ts';
import { GeoIp } from '../enrich/geo-ip.ts';
import { openEnricher } from '../enrich/open-enricher.ts';
import { RouteBook } from '../enrich/routes/route-book.ts';
import { applyRouteUpdates, changedSnapshots } from '../enrich/routes/route-store.ts';
import { osThreadId } from '../observability/thread-cpu.ts';
import { RecordStage } from './record-stage.ts';
import { RequestQueue } from './request-queue.ts';
import {
  ownBytes,
  ownDeadLetter,
  type StageReply,
  type StageRequest,
  type StageThreadInit,
  unpackRecords,
} from './stage-protocol.ts';
import { WARM_UP_LINES, warmUp, warmUpRecords } from './warm-up.ts';

const port = parentPort;
if (port === null) throw new Error('stage-thread.ts runs as a worker thread (see thread-stages.ts)');
const init = workerData as StageThreadInit;

const routes = new RouteBook({ worker: init.routesWorker });
if (init.routeUpdates === null) routes.awaitLoad();
else {
  applyRouteUpdates(routes, init.routeUpdates);
  if (init.routesAwaitLoad === true) routes.awaitLoad();
}
const geoIp = init.geoIp === undefined ? GeoIp.disabled() : GeoIp.fromFiles(init.geoIp);
// One DuckDB connection: a stage thread encodes one batch at a time. Two let a batch be appended
// while the previous one was written, but the stage threads already keep the cores busy, and each
// encode holds ~3-4 KB a row in DuckDB while it runs: the worker's peak is those encodes at once.
// bench:pipeline at 1M, 2 interleaved pairs (2026-12-01): 501 / 498 MB against 517 / 510 at
// 18,232 / 16,412 records/s against 16,682 / 17,921; demo p95 3,364 / 3,141 ms against 3,323 / 3,352.
const encoder = await ParquetEncoder.create({ connections: 1 });
const stage = new RecordStage(openEnricher(init.enrich, routes, geoIp), encoder, init.settings);
// Before the first chunk (warm-up.ts): a stage of its own, whose route book is thrown away after.
// Only an optimisation: should it fail (the encoder's temp dir full), the first real batch says why.
await warmUp(
  new RecordStage(
    openEnricher(init.enrich, new RouteBook({ worker: 'warm-up' }), geoIp),
    encoder,
    init.settings,
  ),
  warmUpRecords(WARM_UP_LINES, Date.now()),
).catch(() => undefined);

const reply = (message: StageReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const handle = async (req: StageRequest): Promise<void> => {
  switch (req.op) {
    case 'prepare': {
      const chunk = stage.prepare(req.pid, unpackRecords(req.packed), req.options);
      const value = {
        ...chunk,
        deadLetters: chunk.deadLetters.map((dls) => (dls === null ? null : dls.map(ownDeadLetter))),
      };
      reply({ id: req.id, ok: true, value }, [
        chunk.keyHashes.buffer as ArrayBuffer,
        chunk.lineBytes.buffer as ArrayBuffer,
        chunk.rowEnd.buffer as ArrayBuffer,
        chunk.logs.buffer as ArrayBuffer,
        chunk.deadLetterBytes.buffer as ArrayBuffer,
      ]);
      return;
    }
    case 'encode': {
      const outcome = await stage.encode(req.pid, Array.from(req.refs), req.through);
      if (!outcome.ok) return reply({ id: req.id, ok: true, value: outcome });
      const bytes = ownBytes(outcome.bytes);
      return reply({ id: req.id, ok: true, value: { ok: true, bytes } }, [bytes.buffer as ArrayBuffer]);
    }
    case 'refused': {
      const found = await stage.refused(req.pid, Array.from(req.refs), req.because);
      return reply({
        id: req.id,
        ok: true,
        value: { ...found, deadLetters: found.deadLetters.map(ownDeadLetter) },
      });
    }
    case 'free':
      return stage.free(req.pid, req.through);
    case 'drop':
      return stage.drop(req.pid);
    case 'routes.take':
      return reply({ id: req.id, ok: true, value: changedSnapshots(routes) });
    case 'routes.apply':
      return applyRouteUpdates(routes, req.updates);
    case 'close':
      await stage.close();
      reply({ id: req.id, ok: true, value: undefined });
      port.close();
      return;
  }
};

const start = (req: StageRequest): void => {
  handle(req).catch((error: unknown) => {
    if (req.id === undefined) throw error;
    const e = error instanceof Error ? error : new Error(String(error));
    reply({ id: req.id, ok: false, name: e.name, message: e.message });
  });
};

/**
 * Requests received and not started. One is started per turn of the event loop, so that what
 * arrived during a long `prepare` is all queued when the next one is picked (see RequestQueue).
 */
const queue = new RequestQueue();
let scheduled = false;

const drain = (): void => {
  scheduled = false;
  const req = queue.next();
  if (req === undefined) return;
  if (queue.length > 0) schedule();
  start(req);
};

const schedule = (): void => {
  if (scheduled) return;
  scheduled = true;
  setImmediate(drain);
};

port.on('message', (req: StageRequest) => {
  queue.push(req);
  schedule();
});
reply({ id: 0, ok: true, value: 'ready', tid: osThreadId() });
