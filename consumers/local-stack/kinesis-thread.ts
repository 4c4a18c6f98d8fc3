/**
 * The local Kinesis (kinesalite) in a worker thread of its own. Kinesalite does its work in
 * JavaScript (sequence numbers as big decimals, records in LevelDB): in the consumer's thread it
 * takes the event loop from reading shards and landing batches whenever a producer sends a burst.
 * Started by `startLocalKinesisThread`; answers one message, `close`.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type LocalKinesisOptions, startLocalKinesis } from './kinesis-server.ts';

if (isMainThread || parentPort === null) throw new Error('kinesis-thread.ts runs as a worker thread');
const port = parentPort;
try {
  const local = await startLocalKinesis(workerData as LocalKinesisOptions);
  port.on('message', async () => {
    await local.close();
    port.postMessage({ closed: true });
    port.close();
  });
  port.postMessage({
    ok: true,
    httpEndpoint: local.httpEndpoint,
    httpsEndpoint: local.httpsEndpoint,
    caFile: local.caFile,
  });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  port.postMessage({ ok: false, name: e.name, message: e.message, field: (e as { field?: string }).field });
}
