import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { CONFIGMAP_FILES, renderConfigMap } from '../../fluent-bit/kubernetes/configmap.ts';

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
  volumes: unknown[];
};
type Container = {
  name: string;
  restartPolicy?: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
};

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
});
