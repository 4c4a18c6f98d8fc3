// Lambda's entry point (handler `consumers/lambda/index.handler`): Shardline ships its TypeScript
// sources and runs them bundled by esbuild, or with tsx when no bundle can be kept, as
// consumers/cli/bin.cjs does for the CLI (pipeline/bundle/esm-bundle.mjs). The image holds the
// bundle its build made (Dockerfile), as /var/task is read-only.
import { fileURLToPath } from 'node:url';
import { importBundled } from '../../pipeline/bundle/esm-bundle.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const loaded = await importBundled(fileURLToPath(new URL('./index.ts', import.meta.url)), 'lambda');

export const handler = loaded.handler;
