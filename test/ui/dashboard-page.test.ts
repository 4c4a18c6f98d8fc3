import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNamedQueryOn } from '../../consumers/cli/named-query-runner.ts';
import { startUiServer, type UiServer } from '../../consumers/cli/ui/ui-server.ts';
import { openWarehouseClient, type WarehouseClient } from '../../consumers/cli/warehouse-client.ts';
import { loadQueryLibrary } from '../../schemas/queries/query-library.ts';
import { landGeneratedTraffic } from '../warehouse/landed-traffic.ts';

/**
 * The dashboard page in a real browser (Debian's chromium driven by playwright-core, offline):
 * it loads, each chart draws exactly the figures its named query returns, a project and a range
 * can be chosen, and a screenshot is kept in test/artifacts/ for people to look at.
 */

const CHROMIUM = '/usr/bin/chromium';
const START = '2025-01-15T10:00:00.000Z';
const END = '2025-01-15T10:05:00.000Z';
const SCREENSHOT = resolve(import.meta.dirname, '../artifacts/dashboard.png');

type Row = Record<string, unknown>;
const endpoint = (r: Row) => `${r.method} ${r.endpoint}`;

/** What each chart must draw from its query's rows, written independently of the page's code. */
const EXPECTED_CHARTS: Record<
  string,
  { params?: Record<string, string>; label: (r: Row) => unknown; series: string[] }
> = {
  requests_per_minute: { label: (r) => r.minute, series: ['requests', 'errors'] },
  latency_by_endpoint: { params: { limit: '10' }, label: endpoint, series: ['p50_ms', 'p95_ms', 'p99_ms'] },
  error_rate_by_status_class: { label: (r) => r.status_class, series: ['requests'] },
  top_endpoints: { params: { limit: '10' }, label: endpoint, series: ['requests', 'errors'] },
  top_consumers: { params: { limit: '10' }, label: (r) => r.consumer, series: ['requests', 'errors'] },
  countries: { params: { limit: '15' }, label: (r) => r.country, series: ['requests'] },
  browsers: { params: { limit: '10' }, label: (r) => r.browser, series: ['requests'] },
  best_practice_failures: { label: endpoint, series: ['requests'] },
};

interface Drawn {
  readonly labels: unknown[];
  readonly datasets: { label: string; data: number[] }[];
}

let dir: string;
let client: WarehouseClient;
let server: UiServer;
let context: BrowserContext;
let page: Page;
let projects: string[];
const requested: string[] = [];

/** Waits for the page to finish a refresh after `before` (its generation counter). */
const settled = async (before: string | null) => {
  await page.waitForFunction(
    (b) => document.body.dataset.ready === 'true' && document.body.dataset.generation !== b,
    before,
    { timeout: 30_000 },
  );
};

const drawn = async (): Promise<Record<string, Drawn>> =>
  page.evaluate(() =>
    Object.fromEntries(
      Array.from(document.querySelectorAll<HTMLElement>('figure[data-query]')).map((f) => [
        f.dataset.query,
        JSON.parse(f.dataset.chart ?? 'null'),
      ]),
    ),
  );

/** Runs each chart's named query as the CLI would and compares with what the page drew. */
const expectChartsToMatchQueries = async (project: string, from: string, to: string) => {
  const library = loadQueryLibrary();
  const charts = await drawn();
  expect(Object.keys(charts).sort()).toEqual(Object.keys(EXPECTED_CHARTS).sort());
  let points = 0;
  for (const [name, spec] of Object.entries(EXPECTED_CHARTS)) {
    const result = await runNamedQueryOn(client, library.get(name)!, { project, from, to, ...spec.params });
    const chart = charts[name]!;
    expect(chart.labels, name).toEqual(result.rows.map(spec.label));
    expect(
      chart.datasets.map((d) => d.data),
      name,
    ).toEqual(spec.series.map((column) => result.rows.map((r) => Number(r[column]))));
    points += result.rows.length;
  }
  return points;
};

describe.skipIf(!existsSync(CHROMIUM))(`dashboard page in Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-ui-'));
    const landed = await landGeneratedTraffic(dir, {
      count: 3_000,
      seed: 21,
      startTime: START,
      ratePerSecond: 10,
      batchRows: 500,
    });
    await landed.warehouse.close();
    const counts = new Map<string, number>();
    for (const r of landed.rows) counts.set(r.project_id, (counts.get(r.project_id) ?? 0) + 1);
    projects = [...counts].sort((a, b) => b[1] - a[1]).map(([p]) => p);
    client = await openWarehouseClient({ warehouse: 'embedded', db: join(dir, 'warehouse.duckdb') });
    server = await startUiServer({ port: 0, host: '127.0.0.1', client });
    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1400, height: 1000 },
    });
    page = await context.newPage();
    page.on('request', (r) => requested.push(r.url()));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads, and every chart holds the figures its named query returns', async () => {
    // Act
    await page.goto(`${server.url}/#${new URLSearchParams({ project: projects[0]!, from: START, to: END })}`);
    await settled(null);
    const points = await expectChartsToMatchQueries(projects[0]!, START, END);
    const coverage = await page.locator('#coverage').textContent();

    // Assess
    expect(points).toBeGreaterThan(30);
    expect(coverage).toBe(
      `project "${projects[0]}" · 2025-01-15 10:00:00 → 2025-01-15 10:05:00 UTC (end exclusive)`,
    );
    expect(await page.locator('#project option').allTextContents()).toEqual(expect.arrayContaining(projects));
    // Everything came from this server: the charting library too, no CDN.
    expect(requested.filter((u) => !u.startsWith(server.url))).toEqual([]);
    expect(requested).toContain(`${server.url}/vendor/chart.umd.min.js`);
  }, 60_000);

  it('another project can be chosen', async () => {
    // Prepare
    const before = await page.evaluate(() => document.body.dataset.generation ?? null);

    // Act
    await page.selectOption('#project', projects[1]!);
    await settled(before);

    // Assess
    expect(await page.locator('#coverage').getAttribute('data-project')).toBe(projects[1]);
    await expectChartsToMatchQueries(projects[1]!, START, END);
  }, 60_000);

  it('a relative range is resolved once per refresh: every chart gets the same absolute times, shown in the banner', async () => {
    // Prepare
    const before = await page.evaluate(() => document.body.dataset.generation ?? null);
    const from = requested.length;

    // Act
    await page.fill('#from', '-1h');
    await page.fill('#to', 'now');
    await page.click('#apply');
    await settled(before);

    // Assess
    const queries = requested
      .slice(from)
      .filter((u) => u.includes('/api/query/') && !u.includes('/api/query/top_projects'))
      .map((u) => new URL(u).searchParams);
    expect(queries.length).toBe(Object.keys(EXPECTED_CHARTS).length);
    const ranges = new Set(queries.map((q) => `${q.get('from')} ${q.get('to')}`));
    expect(ranges.size).toBe(1);
    const [sentFrom, sentTo] = [...ranges][0]!.split(' ');
    expect(sentFrom).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(sentTo!) - Date.parse(sentFrom!)).toBe(3_600_000);
    expect(await page.locator('#coverage').getAttribute('data-from')).toBe(sentFrom);
    expect(await page.locator('#coverage').getAttribute('data-to')).toBe(sentTo);
    expect(await page.locator('#coverage').textContent()).toContain('"-1h" → "now" resolved at this refresh');
  }, 60_000);

  it('another range can be chosen, and a screenshot is kept', async () => {
    // Prepare
    const before = await page.evaluate(() => document.body.dataset.generation ?? null);
    const from = '2025-01-15T10:01:00Z';
    const to = '2025-01-15T10:03:30Z';

    // Act
    await page.fill('#from', from);
    await page.fill('#to', to);
    await page.click('#apply');
    await settled(before);
    await mkdir(resolve(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Assess
    expect(await page.locator('#coverage').getAttribute('data-from')).toBe('2025-01-15T10:01:00.000Z');
    expect(await page.locator('#coverage').getAttribute('data-to')).toBe('2025-01-15T10:03:30.000Z');
    const minutes = (await drawn()).requests_per_minute!.labels;
    expect(minutes[0]).toBe('2025-01-15T10:01:00.000000Z');
    await expectChartsToMatchQueries(projects[1]!, from, to);
    expect(existsSync(SCREENSHOT)).toBe(true);
    console.log(`screenshot: ${SCREENSHOT}`);
  }, 60_000);
});
