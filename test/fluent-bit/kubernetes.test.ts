import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CONFIGMAP_FILES, renderConfigMap } from '../../fluent-bit/kubernetes/configmap.ts';
import { requestLogFileOptionsFromEnv } from '../../fluent-bit/node/request-logger-env.ts';

const FLUENT_BIT = resolve(import.meta.dirname, '../../fluent-bit');
const read = (name: string) => readFileSync(resolve(FLUENT_BIT, name), 'utf8');

type Manifest = {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { template: { spec: PodSpec } };
};
type PodSpec = {
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  initContainers: Container[];
  containers: Container[];
  volumes: { name: string; emptyDir?: { sizeLimit?: string }; configMap?: { name: string } }[];
};
type Container = {
  name: string;
  restartPolicy?: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};

type TailConfig = {
  service: Record<string, string | number>;
  pipeline: {
    inputs: Record<string, string | number | boolean>[];
    outputs: Record<string, string | number | boolean>[];
  };
};

const MI = 1024 ** 2;

/** A Kubernetes quantity (`1Gi`, `512Mi`, `1G`, bytes) in bytes. */
function quantity(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (m === null) throw new Error(`not a quantity: ${text}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] === undefined ? 1 : unit[m[2] as keyof typeof unit]);
}

/**
 * A Fluent Bit size (`2G`, `512K`, `16MB`) in bytes. Fluent Bit 5 reads K/M/G as powers of 1000
 * and older releases as powers of 1024; a bound takes the larger.
 */
function fluentBitSize(text: string | number): number {
  const m = /^(\d+)\s*([KMG])?B?$/i.exec(String(text));
  if (m === null) throw new Error(`not a Fluent Bit size: ${text}`);
  const power = { K: 1, M: 2, G: 3 }[(m[2] ?? '').toUpperCase() as 'K' | 'M' | 'G'] ?? 0;
  return Number(m[1]) * 1024 ** power;
}

/** Fluent Bit's tail `path` is a glob (`*`, `?`); the test needs only whether a name matches. */
function globMatches(pattern: string, path: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${source}$`).test(path);
}

describe('Kubernetes example', () => {
  const docs = parseAllDocuments(read('kubernetes/deployment.yaml')).map((d) => d.toJS() as Manifest);
  const account = docs.find((d) => d.kind === 'ServiceAccount')!;
  const pod = docs.find((d) => d.kind === 'Deployment')!.spec!.template.spec;
  const sidecar = pod.initContainers.find((c) => c.name === 'fluent-bit')!;
  const app = pod.containers[0]!;

  it('configmap.yaml is generated from the checked files and carries them byte for byte', () => {
    // Act
    const onDisk = read('kubernetes/configmap.yaml');
    const data = (parseYaml(onDisk) as { data: Record<string, string> }).data;

    // Assess
    expect(onDisk).toBe(renderConfigMap());
    for (const name of CONFIGMAP_FILES) expect(data[name]).toBe(read(name));
  });

  it('runs Fluent Bit as a native sidecar on the config from the ConfigMap', () => {
    // Assess
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.command?.at(-1)).toBe('/fluent-bit/etc/shardline/sidecar-tail.yaml');
    expect(pod.volumes).toContainEqual({
      name: 'fluent-bit-config',
      configMap: { name: 'shardline-fluent-bit' },
    });
  });

  it('sets every variable the sidecar config uses, and the Lua filter’s metadata', () => {
    // Prepare
    const used = [...read('sidecar-tail.yaml').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]);
    const set = new Set(sidecar.env?.map((e) => e.name));

    // Assess
    for (const name of [...used, 'SHARDLINE_SERVICE', 'SHARDLINE_ENVIRONMENT', 'POD_NAME', 'NODE_NAME']) {
      expect(set.has(name!), name).toBe(true);
    }
  });

  it('app and sidecar share the log volume; the sidecar reads it and buffers on its own volume', () => {
    // Prepare
    const logPath = sidecar.env?.find((e) => e.name === 'SHARDLINE_LOG_PATH')?.value ?? '';
    const stateDir = sidecar.env?.find((e) => e.name === 'SHARDLINE_STATE_DIR')?.value;

    // Assess
    const appMount = app.volumeMounts!.find((m) => m.name === 'app-logs')!;
    const sidecarMount = sidecar.volumeMounts!.find((m) => m.name === 'app-logs')!;
    expect(logPath.startsWith(`${appMount.mountPath}/`)).toBe(true);
    expect(sidecarMount).toMatchObject({ mountPath: appMount.mountPath, readOnly: true });
    expect(sidecar.volumeMounts!.find((m) => m.mountPath === stateDir)?.name).toBe('fluent-bit-state');
  });

  it('gets Kinesis credentials from the pod’s ServiceAccount, and time to flush on shutdown', () => {
    // Prepare
    const grace = (parseYaml(read('sidecar-tail.yaml')) as { service: { grace: number } }).service.grace;

    // Assess
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::\d{12}:role\//,
    );
    expect(JSON.stringify(sidecar)).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(grace);
  });

  describe('no volume can outgrow its sizeLimit (the arithmetic in deployment.yaml)', () => {
    const tail = parseYaml(read('sidecar-tail.yaml')) as TailConfig;
    const tailInput = tail.pipeline.inputs.find((i) => i.name === 'tail')!;
    const kinesis = tail.pipeline.outputs.find((o) => o.name === 'kinesis_streams')!;
    const appEnv = Object.fromEntries((app.env ?? []).map((e) => [e.name, e.value]));
    const sidecarEnv = Object.fromEntries((sidecar.env ?? []).map((e) => [e.name, e.value]));
    const sizeLimit = (volume: string) =>
      quantity(pod.volumes.find((v) => v.name === volume)?.emptyDir?.sizeLimit ?? 'missing');
    /** Room kept free in every volume: bounds rounded in the comment, files the kubelet measures late. */
    const MARGIN = 0.1;

    it('app-logs: the middleware rotates, and its files plus one Fluent Bit still holds fit with margin', () => {
      // Prepare
      const { file, maxBytes, maxFiles } = requestLogFileOptionsFromEnv(appEnv);

      // Act
      const rotatedFiles = (maxFiles ?? 0) + 1;
      const heldOpenAfterDelete = maxBytes ?? 0;
      const bound = rotatedFiles * (maxBytes ?? Number.POSITIVE_INFINITY) + heldOpenAfterDelete;

      // Assess
      expect(file).toBe(sidecarEnv.SHARDLINE_LOG_PATH);
      expect(maxBytes).toBeDefined();
      expect(maxFiles).toBeDefined();
      expect(bound).toBe(640 * MI);
      expect(bound).toBeLessThanOrEqual((1 - MARGIN) * sizeLimit('app-logs'));
    });

    it('fluent-bit-state: the output’s storage.total_limit_size plus chunks still filling fit with margin', () => {
      // Prepare
      const CHUNK_BYTES = 2 * MI;
      const chunksUp = Number(tail.service['storage.max_chunks_up'] ?? 128);

      // Act
      const bound = fluentBitSize(kinesis['storage.total_limit_size'] as string) + chunksUp * CHUNK_BYTES;

      // Assess
      expect(tailInput['storage.type']).toBe('filesystem');
      expect(String(tail.service['storage.path'])).toMatch(/^\$\{SHARDLINE_STATE_DIR\}\//);
      expect(bound).toBeLessThanOrEqual((1 - MARGIN) * sizeLimit('fluent-bit-state'));
    });

    it('the tail input follows renames and never picks up a rotated file as a new one', () => {
      // Prepare
      const path = String(tailInput.path).replace(
        /\$\{([A-Z0-9_]+)\}/g,
        (_, name: string) => sidecarEnv[name] ?? '',
      );
      const { file, maxFiles } = requestLogFileOptionsFromEnv(appEnv);
      const rotated = Array.from({ length: maxFiles ?? 1 }, (_, i) => `${file}.${i + 1}`);

      // Assess
      expect(globMatches(path, file!)).toBe(true);
      for (const name of rotated) expect(globMatches(path, name), name).toBe(false);
      expect(Number(tailInput.rotate_wait)).toBeGreaterThan(0);
      expect(String(tailInput.db)).toMatch(/^\$\{SHARDLINE_STATE_DIR\}\//);
    });
  });
});
