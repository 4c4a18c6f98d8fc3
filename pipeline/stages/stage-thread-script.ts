import { fileURLToPath } from 'node:url';
import { bundleEntry, DEFAULT_BUNDLE_DIR } from '../bundle/esm-bundle.mjs';

/**
 * The script a stage thread runs: its sources bundled into one ES module (`esm-bundle.mjs`), or,
 * when there is no bundle, the boot script that registers tsx in the thread, which then starts a
 * module-loader thread of its own. Measured on this machine, a pool of 2 stage threads, idle after
 * their warm-up: 216-225 MB RSS against 260-263 with tsx, 14 OS threads against 16, and ready in
 * 2.1-2.5 s against 2.9-3.3 s on the same hour.
 */
export interface StageThreadScript {
  readonly url: URL;
  /** Set when the script is the tsx boot script: why no bundle is used. */
  readonly fallbackReason?: string;
}

const ENTRY = fileURLToPath(new URL('./stage-thread.ts', import.meta.url));
const BOOT = new URL('./stage-thread-boot.mjs', import.meta.url);

/** The bundle of the stage thread's sources kept under `dir`, or the tsx boot script and why. */
export async function buildStageThreadScript(dir = DEFAULT_BUNDLE_DIR): Promise<StageThreadScript> {
  const bundled = await bundleEntry(ENTRY, { name: 'stage-thread', dir });
  return bundled.url !== undefined
    ? { url: bundled.url }
    : { url: BOOT, fallbackReason: `${bundled.fallbackReason}; each stage thread registers tsx` };
}

let shared: Promise<StageThreadScript> | undefined;

/** `buildStageThreadScript()` once per process: every stage thread of it runs the same script. */
export const stageThreadScript = (): Promise<StageThreadScript> => {
  shared ??= buildStageThreadScript();
  return shared;
};
