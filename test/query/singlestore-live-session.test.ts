import { describe, expect, it } from 'vitest';
import { runNamedQueryOn } from '../../consumers/cli/named-query-runner.ts';
import { openWarehouseClient } from '../../consumers/cli/warehouse-client.ts';
import { loadQueryLibrary } from '../../schemas/queries/query-library.ts';

/**
 * Against a real SingleStore with data loaded (see test/warehouse/singlestore-live.test.ts), only
 * when given one, once per way in: SINGLESTORE_URL (singlestore:// or mysql://, MySQL protocol)
 * and SINGLESTORE_DATA_API_URL (https://user:pass@<workspace host>/<database>, the Data API).
 * Each is reported as skipped, with its variable's name, when not given.
 */
const targets = [
  ['MySQL protocol', process.env.SINGLESTORE_URL],
  ['Data API', process.env.SINGLESTORE_DATA_API_URL],
] as const;

for (const [way, url] of targets) {
  describe.skipIf(url === undefined || url === '')(
    `SingleStore live over the ${way} (${way === 'Data API' ? 'SINGLESTORE_DATA_API_URL' : 'SINGLESTORE_URL'})`,
    () => {
      it("runs every named query over the data and reports SQL errors with SingleStore's message", async () => {
        // Prepare
        const client = await openWarehouseClient({ warehouse: 'singlestore', db: '', url });
        const [span] = (await client.run('SELECT MIN(ts) AS a, MAX(project_id) AS p FROM requests')).rows;

        // Act
        const results = [];
        for (const q of loadQueryLibrary().values()) {
          const r = await runNamedQueryOn(client, q, {
            project: String(span?.p),
            from: String(span?.a),
            to: '2999-12-31',
          });
          results.push({ name: q.name, rows: r.rows.length });
        }
        const failed = client.run('selec * from requests').catch((e: Error) => e);
        await client.close();

        // Assess
        expect(results.filter((r) => r.rows === 0 && r.name !== 'best_practice_failures')).toEqual([]);
        expect(await failed).toMatchObject({ name: 'QueryError', message: expect.stringMatching(/syntax/i) });
      }, 120_000);
    },
  );
}
