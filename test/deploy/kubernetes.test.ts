import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ENVIRONMENT_VARIABLE_NAMES } from '../../src/config/environment.js';
import { loadConfig } from '../../src/config/gateway-config.js';
import { quantity, readYaml, readYamlDocuments, repoPath, type Yaml } from './deploy-files.js';

const K8S = 'docker/k8s';
const NAME_LABEL = 'app.kubernetes.io/name';
const APP = 'payment-callback-gateway';
const KNOWN_VARIABLES = new Set<string>([...ENVIRONMENT_VARIABLE_NAMES, 'SHUTDOWN_TIMEOUT_MS']);
/** Variables that must never sit in a ConfigMap (the URLs carry passwords). */
const isSecretName = (name: string) =>
  /KEY|TOKEN|PASSWORD|SECRET/.test(name) || name === 'DATABASE_URL' || name === 'AMQP_URL';

const kustomization: Yaml = readYaml(K8S, 'kustomization.yaml');
const resourceFiles: string[] = kustomization.resources ?? [];
// A listed file that is missing fails the kustomization test below, not the whole suite.
const objects: Yaml[] = resourceFiles
  .filter((file) => existsSync(repoPath(K8S, file)))
  .flatMap((file) => readYamlDocuments(K8S, file));
const secretExample: Yaml = readYaml(K8S, 'secret.example.yaml');

function only(kind: string): Yaml {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, found ${found.length}`);
  return found[0];
}

const deployment = only('Deployment');
const services: Yaml[] = objects.filter((object) => object.kind === 'Service');
const service = services.find((object) => object.metadata.name === APP);
const managementService = services.find((object) => object.metadata.name === `${APP}-management`);
const configMap = only('ConfigMap');
const hpa = only('HorizontalPodAutoscaler');
const pdb = only('PodDisruptionBudget');
const podSpec = deployment.spec.template.spec;
const container = podSpec.containers[0];
const migrateContainer = (podSpec.initContainers ?? []).find((c: Yaml) => c.name === 'migrate');
const configData: Record<string, unknown> = configMap.data ?? {};
const secretData: Record<string, unknown> = {
  ...(secretExample.data ?? {}),
  ...(secretExample.stringData ?? {}),
};

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

/** A probe's or Service's port (number or container port name) as a number. */
function containerPortNumber(port: unknown): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p: Yaml) => p.name === port);
  assert.ok(named, `no container port named ${String(port)}`);
  return named.containerPort;
}

function preStopSleepSeconds(): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return Number(preStop.sleep.seconds);
  const command: string[] = preStop?.exec?.command ?? [];
  const match = /\bsleep\s+(\d+(?:\.\d+)?)\b/.exec(command.join(' '));
  return match ? Number(match[1]) : 0;
}

describe('kustomization', () => {
  it('lists resource files that exist, and not the Secret example', () => {
    assert.ok(resourceFiles.length >= 6);
    for (const file of resourceFiles)
      assert.ok(existsSync(repoPath(K8S, file)), `${file} listed but missing`);
    assert.ok(!resourceFiles.includes('secret.example.yaml'));
    assert.equal(
      objects.filter((object) => object.kind === 'Secret').length,
      0,
      'a Secret is part of the base',
    );
  });

  it('labels every object and pod template with app.kubernetes.io/name', () => {
    for (const object of [...objects, secretExample]) {
      assert.equal(
        object.metadata?.labels?.[NAME_LABEL],
        APP,
        `${object.kind} ${object.metadata?.name}`,
      );
    }
    assert.equal(deployment.spec.template.metadata.labels[NAME_LABEL], APP);
  });

  it('lets kustomize images override the image of the gateway and of the migrate init container', () => {
    const names = (kustomization.images ?? []).map((image: Yaml) => image.name);
    for (const image of [container.image, migrateContainer.image]) {
      assert.ok(
        names.includes(String(image).split(':')[0]),
        `${image} not covered by images: ${names}`,
      );
    }
    assert.equal(container.image, 'payment-callback-gateway:latest');
  });
});

describe('Deployment', () => {
  it('runs at least two replicas whose pods its selector matches', () => {
    assert.ok(deployment.spec.replicas >= 2, `replicas ${deployment.spec.replicas}`);
    assert.ok(
      selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels),
    );
  });

  it('listens on the container port the configuration sets', () => {
    const config = loadConfig({
      ...(configData as Record<string, string>),
      ...(secretData as Record<string, string>),
      // What the pod finds at ACCOUNTS_FILE: the Secret made from the example.
      ACCOUNTS_FILE: repoPath('docker', 'k8s', 'accounts.example.yaml'),
    });
    assert.equal(containerPortNumber('http'), config.port);
    assert.equal(config.port, 3000);
  });

  it('probes liveness on /health/live and readiness on /health/ready at the container port', () => {
    assert.equal(container.livenessProbe?.httpGet?.path, '/health/live');
    assert.equal(container.readinessProbe?.httpGet?.path, '/health/ready');
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (!container[probe]) continue;
      assert.equal(containerPortNumber(container[probe].httpGet.port), 3000, probe);
    }
    if (container.startupProbe) assert.equal(container.startupProbe.httpGet.path, '/health/live');
  });

  it('runs as non-root on a read-only root filesystem without privileges', () => {
    const pod = podSpec.securityContext ?? {};
    const own = container.securityContext ?? {};
    assert.equal(own.runAsNonRoot ?? pod.runAsNonRoot, true);
    assert.notEqual(own.runAsUser ?? pod.runAsUser, 0);
    assert.equal(own.readOnlyRootFilesystem, true);
    assert.equal(own.allowPrivilegeEscalation, false);
    assert.ok(own.capabilities?.drop?.includes('ALL'));
    const tmp = (container.volumeMounts ?? []).find((mount: Yaml) => mount.mountPath === '/tmp');
    assert.ok(tmp, '/tmp is not writable');
    assert.ok(podSpec.volumes.find((volume: Yaml) => volume.name === tmp.name)?.emptyDir);
  });

  it('requests and limits CPU and memory within a small footprint', () => {
    const { requests, limits } = container.resources ?? {};
    assert.equal(quantity(requests?.cpu), 0.25);
    assert.ok(quantity(requests?.memory) > 0);
    assert.ok(quantity(limits?.cpu) >= quantity(requests.cpu));
    assert.ok(quantity(limits?.memory) >= quantity(requests.memory));
    assert.ok(quantity(limits.memory) <= 512 * 2 ** 20, `memory limit ${limits.memory}`);
  });

  it('keeps the pod alive longer than the preStop sleep plus the drain timeout', () => {
    const drainSeconds = Number(configData.SHUTDOWN_TIMEOUT_MS) / 1000;
    assert.ok(
      Number.isFinite(drainSeconds) && drainSeconds > 0,
      'SHUTDOWN_TIMEOUT_MS missing from the ConfigMap',
    );
    const sleep = preStopSleepSeconds();
    assert.ok(sleep > 0, 'no preStop sleep');
    assert.ok(
      podSpec.terminationGracePeriodSeconds > drainSeconds + sleep,
      `terminationGracePeriodSeconds ${podSpec.terminationGracePeriodSeconds} <= ${drainSeconds} + ${sleep}`,
    );
  });

  it('reads its environment from the ConfigMap and the Secret, and leaves migrations to the init container', () => {
    const envFrom: Yaml[] = container.envFrom ?? [];
    assert.ok(envFrom.some((source) => source.configMapRef?.name === configMap.metadata.name));
    assert.ok(envFrom.some((source) => source.secretRef?.name === secretExample.metadata.name));
    const overridden = (container.env ?? []).map((variable: Yaml) => variable.name);
    assert.ok(!overridden.includes('DATABASE_MIGRATIONS_RUN'));
    assert.equal(configData.DATABASE_MIGRATIONS_RUN, 'false');
  });
});

describe('Service', () => {
  it('exposes port 80 as ClusterIP and targets the container port of the gateway pods only', () => {
    assert.equal(service.spec.type ?? 'ClusterIP', 'ClusterIP');
    assert.equal(service.spec.ports.length, 1);
    const [port] = service.spec.ports;
    assert.equal(port.name, 'http');
    assert.equal(port.port, 80);
    assert.equal(containerPortNumber(port.targetPort), container.ports[0].containerPort);
    assert.equal(containerPortNumber(port.targetPort), 3000);
    assert.ok(selects(service.spec.selector, deployment.spec.template.metadata.labels));
  });
});

describe('management port', () => {
  it('is MANAGEMENT_PORT, a container port of its own, exposed only by the ClusterIP management Service', () => {
    assert.equal(services.length, 2, 'the public Service and the management Service');
    const config = loadConfig({
      ...(configData as Record<string, string>),
      ...(secretData as Record<string, string>),
      ACCOUNTS_FILE: repoPath('docker', 'k8s', 'accounts.example.yaml'),
    });
    assert.equal(containerPortNumber('management'), config.managementPort);
    assert.notEqual(config.managementPort, config.port);
    assert.equal(managementService.spec.type ?? 'ClusterIP', 'ClusterIP');
    assert.deepEqual(
      managementService.spec.ports.map((port: Yaml) => containerPortNumber(port.targetPort)),
      [config.managementPort],
    );
    assert.ok(selects(managementService.spec.selector, deployment.spec.template.metadata.labels));
    // The public Service never reaches the management port.
    assert.ok(
      service.spec.ports.every(
        (port: Yaml) => containerPortNumber(port.targetPort) !== config.managementPort,
      ),
    );
    assert.equal(
      deployment.spec.template.metadata.annotations['prometheus.io/port'],
      String(config.managementPort),
    );
  });
});

describe('ConfigMap and Secret example', () => {
  it('name only variables the gateway reads', () => {
    for (const [source, data] of [
      ['ConfigMap', configData],
      ['Secret', secretData],
    ] as const) {
      assert.deepEqual(
        Object.keys(data).filter((name) => !KNOWN_VARIABLES.has(name)),
        [],
        source,
      );
    }
  });

  it('keep every secret out of the ConfigMap', () => {
    assert.deepEqual(Object.keys(configData).filter(isSecretName), []);
    for (const [name, value] of Object.entries(configData)) {
      assert.equal(typeof value, 'string', `${name}: ConfigMap values must be strings`);
      assert.doesNotMatch(String(value), /:\/\/[^/@\s]*:[^/@\s]*@/, `${name} embeds credentials`);
    }
  });

  it('together cover every variable except SQLITE_PATH, each in one place', () => {
    const both = Object.keys(configData).filter((name) => name in secretData);
    assert.deepEqual(both, []);
    const missing = ENVIRONMENT_VARIABLE_NAMES.filter(
      (name) => name !== 'SQLITE_PATH' && !(name in configData) && !(name in secretData),
    );
    assert.deepEqual(missing, [], 'add them to configmap.yaml or secret.example.yaml');
    assert.ok(!('SQLITE_PATH' in configData), 'replicas must share PostgreSQL, not a SQLite file');
  });

  it('the Secret example holds every secret variable, each a placeholder', () => {
    const secretNames = ENVIRONMENT_VARIABLE_NAMES.filter(isSecretName);
    assert.deepEqual(
      secretNames.filter((name) => !(name in secretData)),
      [],
    );
    assert.equal(secretExample.kind, 'Secret');
    for (const [name, value] of Object.entries(secretData)) {
      assert.match(String(value), /change-me/, `${name} is not a placeholder`);
    }
    const composeEnv = readYamlDocuments('docker/compose.yaml')[0].services.gateway
      .environment as Record<string, string>;
    for (const [name, value] of Object.entries(secretData)) {
      assert.notEqual(value, composeEnv[name], `${name} repeats the local demo value`);
    }
  });

  it('make a configuration the gateway accepts, on PostgreSQL, without start-up migrations', () => {
    const config = loadConfig({
      ...(configData as Record<string, string>),
      ...(secretData as Record<string, string>),
      // What the pod finds at ACCOUNTS_FILE: the Secret made from the example.
      ACCOUNTS_FILE: repoPath('docker', 'k8s', 'accounts.example.yaml'),
    });
    assert.equal(config.environment, 'production');
    assert.equal(config.database.type, 'postgres');
    assert.equal(config.database.runMigrations, false);
  });
});

describe('HorizontalPodAutoscaler and PodDisruptionBudget', () => {
  it('scale the Deployment between 2 and 10 replicas at 70% CPU', () => {
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    assert.equal(hpa.spec.minReplicas, 2);
    assert.equal(hpa.spec.maxReplicas, 10);
    assert.ok(deployment.spec.replicas >= hpa.spec.minReplicas);
    const cpu = hpa.spec.metrics.find((metric: Yaml) => metric.resource?.name === 'cpu');
    assert.deepEqual(cpu?.resource.target, { type: 'Utilization', averageUtilization: 70 });
  });

  it('keep one gateway pod available through voluntary disruptions', () => {
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(
      pdb.spec.minAvailable < deployment.spec.replicas,
      'a PDB equal to replicas blocks every node drain',
    );
    assert.ok(selects(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
  });
});

describe('migrations (init container)', () => {
  it('every pod runs node dist/src/migrate.js before the gateway starts (advisory lock: runners wait)', () => {
    assert.ok(migrateContainer, 'an init container named migrate');
    const command = [...(migrateContainer.command ?? []), ...(migrateContainer.args ?? [])];
    assert.deepEqual(command, ['node', 'dist/src/migrate.js']);
    assert.ok(
      existsSync(repoPath('src/migrate.ts')),
      'src/migrate.ts, compiled to dist/src/migrate.js',
    );
    assert.equal(migrateContainer.image, container.image);
  });

  it('no Job whose immutable template would have to be deleted by hand on each release', () => {
    assert.deepEqual(
      objects.filter((object) => object.kind === 'Job'),
      [],
    );
  });

  it('gets the same configuration and security context as the gateway', () => {
    assert.deepEqual(migrateContainer.envFrom, container.envFrom);
    assert.deepEqual(migrateContainer.securityContext, container.securityContext);
    assert.ok(quantity(migrateContainer.resources?.limits?.memory) > 0);
    assert.ok(
      (migrateContainer.volumeMounts ?? []).some((mount: Yaml) => mount.mountPath === '/tmp'),
    );
  });
});

describe('V8 sizing', () => {
  it('is the same in the image and the Deployment (the figures npm run bench measures)', async () => {
    const { readFileSync } = await import('node:fs');
    const dockerfile = readFileSync(new URL('../../../docker/Dockerfile', import.meta.url), 'utf8');
    const image = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1];
    const deployment = readFileSync(
      new URL('../../../docker/k8s/deployment.yaml', import.meta.url),
      'utf8',
    );
    const pod = /- name: NODE_OPTIONS\s+value: (.+)/.exec(deployment)?.[1]?.trim();
    assert.ok(image && /--max-old-space-size=\d+/.test(image), 'the image caps the old generation');
    assert.equal(pod, image);
  });
});
