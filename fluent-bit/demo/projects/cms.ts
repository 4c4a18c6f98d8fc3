import type { Endpoint, Project } from '../demo-projects.ts';
import { VOCABULARY as V } from '../demo-vocabulary.ts';
import { page } from './path-parts.ts';

const endpoints: readonly Endpoint[] = [
  {
    method: 'GET',
    weight: 20,
    status: 'list',
    medianMs: 35,
    outBytes: 20_000,
    path: (r) => `/v1/articles?tag=${r.pick(V.tags)}&page=${page(r)}`,
  },
  {
    method: 'GET',
    weight: 40,
    status: 'read',
    medianMs: 20,
    outBytes: 25_000,
    path: (r) => `/v1/articles/${r.pick(V.articleSlugs)}`,
  },
  {
    method: 'GET',
    weight: 5,
    status: 'read',
    medianMs: 15,
    outBytes: 1_500,
    path: (r) => `/v1/authors/${r.range(1, 400)}`,
  },
  {
    method: 'GET',
    weight: 15,
    status: 'read',
    medianMs: 8,
    outBytes: 120_000,
    path: (r) => `/v1/media/${r.hex(32)}.jpg?w=${r.pick([320, 800, 1600])}`,
  },
  {
    method: 'PUT',
    weight: 2,
    status: 'update',
    medianMs: 80,
    outBytes: 25_000,
    path: (r) => `/v1/articles/${r.pick(V.articleSlugs)}`,
    body: (r) => `{"title":"Caf\u00e9 culture in ${r.pick(V.cities)}","status":"draft"}`,
  },
  {
    method: 'POST',
    weight: 3,
    status: 'create',
    medianMs: 45,
    outBytes: 400,
    path: () => '/v1/comments',
    body: (r) =>
      `{"article":"${r.pick(V.articleSlugs)}","author":${JSON.stringify(r.pick(V.names))},"text":${JSON.stringify(r.pick(V.comments))}}`,
  },
  {
    method: 'GET',
    weight: 2,
    status: 'read',
    medianMs: 300,
    outBytes: 400_000,
    path: () => '/v1/sitemap.xml',
  },
];

/** A public content API: mostly cached reads by browsers and crawlers, no authentication. */
export const CMS: Project = {
  id: 'proj_cms',
  weight: 12,
  host: 'cms.example.org',
  clients: 3_000,
  auth: 'none',
  endpoints,
  clientMix: [
    ['desktop', 40],
    ['mobile-web', 35],
    ['tablet', 5],
    ['crawler', 20],
  ],
  requestId: 'uuid',
  timestamp: 'iso-ms',
};
