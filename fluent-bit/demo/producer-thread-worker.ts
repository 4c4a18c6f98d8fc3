/**
 * The demo producer's worker thread (started by `startDemoProducerThread`, producer-thread.ts):
 * sends each `run` it is asked for with a Kinesis client of its own, one at a time, and answers
 * with what was sent. `stop` ends the run under way after its current chunk, as Ctrl-C does.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isLocalEndpoint, localCredentials } from '../../pipeline/aws/local-endpoint.ts';
import { runDemoProducer } from './demo-producer.ts';
import type { ProducerReply, ProducerRequest, ProducerThreadOptions } from './producer-thread.ts';

if (isMainThread || parentPort === null) throw new Error('producer-thread-worker.ts runs as a worker thread');
const port = parentPort;
const { region, endpoint } = workerData as ProducerThreadOptions;

// As the consumers' client for the emulators: HTTP/1.1 keep-alive (they fail intermittently over
// HTTP/2) and their dummy credentials when the environment has none.
const client = isLocalEndpoint(endpoint)
  ? new KinesisClient({
      region,
      endpoint,
      credentials: localCredentials(),
      requestHandler: new NodeHttpHandler({
        connectionTimeout: 5_000,
        requestTimeout: 30_000,
        httpAgent: new HttpAgent({ keepAlive: true }),
        httpsAgent: new HttpsAgent({ keepAlive: true }),
      }),
    })
  : new KinesisClient({ region, endpoint });

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
