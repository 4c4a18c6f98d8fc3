/**
 * The demo producer's worker thread (started by `startDemoProducerThread`, producer-thread.ts):
 * sends each `run` it is asked for with a Kinesis client of its own, one at a time, and answers
 * with what was sent. `stop` ends the run under way after its current chunk, as Ctrl-C does.
 */
import { getPriority, setPriority } from 'node:os';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { runDemoProducer } from './demo-producer.ts';
import {
  type ProducerReply,
  type ProducerRequest,
  type ProducerThreadOptions,
  producerNice,
} from './producer-thread.ts';

if (isMainThread || parentPort === null) throw new Error('producer-thread-worker.ts runs as a worker thread');
const port = parentPort;
const { region, endpoint } = workerData as ProducerThreadOptions;

// The client the dev stack's consumer uses: against the emulators, HTTP/1.1 keep-alive and their
// dummy credentials when the environment has none.
const client = createKinesisClient({ region, endpoint });

// Below the pipeline's priority, on Linux only (why: PRODUCER_NICE_INCREMENT, producer-thread.ts).
if (process.platform === 'linux') {
  try {
    setPriority(producerNice(getPriority()));
  } catch {
    // Lowering one's own priority needs no privilege; should a sandbox refuse it, the demo runs as before.
  }
}

let stopping = false;
let queue: Promise<void> = Promise.resolve();
const reply = (message: ProducerReply) => port.postMessage(message);

port.on('message', (request: ProducerRequest) => {
  switch (request.op) {
    case 'stop':
      stopping = true;
      return;
    case 'close':
      void queue.then(() => {
        client.destroy();
        reply({ id: request.id, ok: true });
        port.close();
      });
      return;
    case 'run':
      // Runs one after another, as the dev stack's loop awaits each.
      queue = queue.then(async () => {
        try {
          const result = await runDemoProducer({ ...request.options, client, stop: () => stopping });
          reply({ id: request.id, ok: true, result });
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          reply({
            id: request.id,
            ok: false,
            name: e.name,
            message: e.message,
            field: (e as { field?: string }).field,
          });
        }
      });
      return;
  }
});
reply({ id: 0, ok: true });
