/**
 * The Kubernetes kit (docker/k8s, the gateway; docker/k8s/cluster, what it runs with): built with
 * kustomize, every rendered object checked against a schema, the cluster's promises checked
 * (3 RabbitMQ nodes, quorum queues, synchronous PostgreSQL, scraping and network policy on the
 * management port), and every metric name of the alert rules and the dashboard checked against
 * the names a running gateway serves on /metrics.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import {
  PodDisruptionBudget,
  type IPodDisruptionBudget,
} from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { brokerTopology, queueOptions } from '../../src/messaging/broker-topology.js';
import { repoPath, type Yaml } from './deploy-files.js';
import { OPERATOR_SCHEMAS } from './operator-schemas.js';
import { startGateway, type RunningGateway } from '../support/gateway.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { deleteQueues, topupEnv, uniqueQueue } from '../support/topups.js';
import { deleteTopology, uniqueExchange } from '../support/broker.js';

const BASE = 'docker/k8s';
const CLUSTER = 'docker/k8s/cluster';
/** Metrics the rules and dashboard read from outside the gateway: kube-state-metrics, the scrape. */
const EXTERNAL_METRICS = new Set(['kube_pod_status_ready', 'up']);

// --- rendering -----------------------------------------------------------------------------

function kubectl(): string | null {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return 'kubectl';
  } catch {
    return null;
  }
}

/** `kubectl kustomize <dir>`: the real kustomize (any kubectl since 1.14 has it built in). */
function kustomizeBuild(dir: string): Yaml[] {
  const text = execFileSync('kubectl', ['kustomize', repoPath(dir)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(text).map((document) => document.toJS() as Yaml);
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'images',
  'configMapGenerator',
  'generatorOptions',
]);

/**
 * The same build without kustomize, for what the kit uses (resources, images, configMapGenerator
 * from files with generatorOptions labels and no hash suffix). Anything else in a kustomization
 * is refused, so this never renders a kit differently without saying so; where kubectl exists
 * the two renders are compared.
 */
function renderKustomization(dir: string): Yaml[] {
  const root = repoPath(dir);
  const kustomization = parseAllDocuments(
    readFileSync(join(root, 'kustomization.yaml'), 'utf8'),
  )[0].toJS() as Yaml;
  const unsupported = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  assert.deepEqual(unsupported, [], `${dir}: fields the test renderer does not implement`);
  const objects: Yaml[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = join(root, entry);
    if (statSync(path).isDirectory()) objects.push(...renderKustomization(join(dir, entry)));
    else
      objects.push(
        ...parseAllDocuments(readFileSync(path, 'utf8'))
          .map((document) => document.toJS() as Yaml)
          .filter((object) => object !== null),
      );
  }
  const options = kustomization.generatorOptions ?? {};
  for (const generator of kustomization.configMapGenerator ?? []) {
    assert.equal(options.disableNameSuffixHash, true, 'hash suffixes are not rendered here');
    const data: Record<string, string> = {};
    for (const file of generator.files ?? [])
      data[basename(file)] = readFileSync(join(root, file), 'utf8');
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: generator.name, ...(options.labels ? { labels: options.labels } : {}) },
      data,
    });
  }
  for (const image of kustomization.images ?? []) {
    for (const object of objects) {
      const pod = object.spec?.template?.spec;
      for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
        const [name, tag] = String(container.image).split(':');
        if (name !== image.name) continue;
        container.image = `${image.newName ?? name}:${image.newTag ?? tag}`;
      }
    }
  }
  return objects;
}

const key = (object: Yaml) => `${object.apiVersion} ${object.kind} ${object.metadata?.name}`;
const sorted = (objects: Yaml[]) => [...objects].sort((a, b) => key(a).localeCompare(key(b)));

const HAVE_KUBECTL = kubectl() !== null;

/** The kit as kustomize builds it (kubectl), else as the test renders it. */
function build(dir: string): Yaml[] {
  return HAVE_KUBECTL ? kustomizeBuild(dir) : renderKustomization(dir);
}

// --- schemas -------------------------------------------------------------------------------

interface Validatable {
  validate(): void;
}
const MODELS: Record<string, new (data: Yaml) => Validatable> = {
  'v1 ConfigMap': ConfigMap,
  'v1 Service': Service,
  'apps/v1 Deployment': Deployment,
  'batch/v1 Job': Job,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget as new (
    data: IPodDisruptionBudget,
  ) => Validatable,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': PrometheusRule,
};
const ajv = new Ajv({ allErrors: true, strict: false });
const OPERATOR_VALIDATORS = Object.fromEntries(
  Object.entries(OPERATOR_SCHEMAS).map(([type, schema]) => [type, ajv.compile(schema)]),
);

/** The schema errors of one object ('' when valid); an unknown kind is an error too. */
function schemaErrors(object: Yaml): string {
  const type = `${object.apiVersion} ${object.kind}`;
  const Model = MODELS[type];
  if (Model) {
    try {
      new Model(structuredClone(object)).validate();
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  }
  const validate = OPERATOR_VALIDATORS[type];
  if (!validate) return `no schema for ${type}`;
  return validate(object) ? '' : ajv.errorsText(validate.errors);
}

// --- PromQL --------------------------------------------------------------------------------

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** Metric names of a PromQL expression: identifiers that are not functions, keywords or labels. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names = new Set<string>();
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const next = bare.slice(match.index! + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/** A histogram's series name back to the metric family /metrics declares. */
const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

// --- the tests -----------------------------------------------------------------------------

const base = build(BASE);
const cluster = build(CLUSTER);
const ofKind = (objects: Yaml[], kind: string) => objects.filter((object) => object.kind === kind);

describe('the Kubernetes kit builds with kustomize', () => {
  it('kubectl kustomize is here in CI (.ci/run installs Debian kubernetes-client without one)', (t) => {
    if (!HAVE_KUBECTL && process.env.CI !== 'true') {
      t.skip('no kubectl on this machine: rendered by the test renderer only');
      return;
    }
    assert.ok(HAVE_KUBECTL, 'CI must build the kit with the real kustomize');
  });

  for (const dir of [BASE, CLUSTER]) {
    it(`${dir}: the test renderer and kustomize build the same objects`, (t) => {
      if (!HAVE_KUBECTL) {
        t.skip('no kubectl: nothing to compare with');
        return;
      }
      let rendered: Yaml[];
      try {
        rendered = renderKustomization(dir);
      } catch (error) {
        // The base may use kustomize features the renderer refuses: kustomize's build is the truth.
        t.skip(`the test renderer refuses it: ${(error as Error).message.split('\n')[0]}`);
        return;
      }
      assert.deepEqual(sorted(rendered), sorted(kustomizeBuild(dir)));
    });
  }

  it('every rendered object of both kustomizations passes its schema', () => {
    const failures = [...base, ...cluster]
      .map((object) => [key(object), schemaErrors(object)])
      .filter(([, errors]) => errors !== '');
    assert.deepEqual(failures, []);
    // Base: ConfigMap, Deployment (with the migrate init container), 2 Services, HPA, PDB.
    assert.ok(base.length >= 6 && cluster.length >= 10, `${base.length} + ${cluster.length}`);
  });

  it('the schema check refuses broken objects of each kind', () => {
    const broken: Array<[Yaml, (object: Yaml) => void]> = [
      [ofKind(base, 'Service')[0], (o) => (o.spec.ports[0].port = 'eighty')],
      [ofKind(base, 'Deployment')[0], (o) => (o.spec.replicas = 'two')],
      [ofKind(cluster, 'NetworkPolicy')[0], (o) => (o.spec.policyTypes = 'Ingress')],
      [ofKind(cluster, 'PrometheusRule')[0], (o) => delete o.spec.groups[0].rules[0].expr],
      [ofKind(cluster, 'ServiceMonitor')[0], (o) => (o.spec.endpoints = 'management')],
      [ofKind(cluster, 'RabbitmqCluster')[0], (o) => (o.spec.replica = 3)],
      [ofKind(cluster, 'Queue')[0], (o) => (o.spec.type = 'quorom')],
      [ofKind(cluster, 'Cluster')[0], (o) => (o.spec.postgresql.synchronous.method = 'all')],
      [ofKind(cluster, 'Binding')[0], (o) => delete o.spec.destination],
    ];
    for (const [object, breakIt] of broken) {
      assert.ok(object, 'the kit has this kind');
      const copy = structuredClone(object);
      breakIt(copy);
      assert.notEqual(schemaErrors(copy), '', `${key(object)} broken but accepted`);
    }
    assert.match(schemaErrors({ apiVersion: 'example.com/v1', kind: 'Widget' }), /no schema/);
  });
});

describe('the cluster kit', () => {
  const named = (kind: string, name: string) =>
    cluster.find((object) => object.kind === kind && object.metadata.name === name);

  it('RabbitMQ: 3 nodes, and every queue the gateway or a consumer uses is a quorum queue declared as the gateway declares it', () => {
    const [rabbit] = ofKind(cluster, 'RabbitmqCluster');
    assert.equal(rabbit.spec.replicas, 3);
    const queues = ofKind(cluster, 'Queue');
    assert.ok(queues.length >= 4);
    const options = queueOptions('quorum');
    for (const queue of queues) {
      assert.equal(queue.spec.type, 'quorum', queue.spec.name);
      assert.equal(queue.spec.durable, options.durable, queue.spec.name);
      assert.equal(queue.spec.autoDelete ?? false, false);
      assert.equal(queue.spec.rabbitmqClusterReference.name, rabbit.metadata.name);
    }
    const topology = brokerTopology('payments.events');
    const exchange = ofKind(cluster, 'Exchange').find((e) => e.spec.name === topology.exchange);
    assert.equal(exchange.spec.type, 'topic');
    assert.equal(exchange.spec.arguments['alternate-exchange'], topology.alternateExchange);
    assert.ok(queues.some((queue) => queue.spec.name === topology.unroutedQueue));
    for (const binding of ofKind(cluster, 'Binding'))
      assert.ok(queues.some((queue) => queue.spec.name === binding.spec.destination));
  });

  it('PostgreSQL: CloudNativePG with synchronous replication (any 1), and the file says what it costs', () => {
    const postgres = named('Cluster', 'payments-postgres');
    assert.ok(postgres.spec.instances >= 3, 'a standby left to confirm commits after one loss');
    assert.equal(postgres.spec.postgresql.synchronous.method, 'any');
    assert.equal(postgres.spec.postgresql.synchronous.number, 1);
    const text = readFileSync(repoPath(CLUSTER, 'postgres.yaml'), 'utf8');
    assert.match(text, /commit latency/);
    assert.match(text, /dataDurability: preferred/);
  });

  it('Prometheus scrapes the management Service; the NetworkPolicy opens the public port to the ingress only and the management port to monitoring only', () => {
    const management = base.find(
      (object) => object.kind === 'Service' && object.metadata.name.endsWith('-management'),
    );
    const [monitor] = ofKind(cluster, 'ServiceMonitor');
    for (const [label, value] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(management.metadata.labels[label], value, label);
    const publicService = base.find(
      (object) => object.kind === 'Service' && object.metadata.name === 'payment-callback-gateway',
    );
    for (const [label, value] of Object.entries(monitor.spec.selector.matchLabels))
      if (publicService.metadata.labels[label] !== value) return assertPolicy();
    assert.fail('the ServiceMonitor also selects the public Service');

    function assertPolicy() {
      assert.deepEqual(
        monitor.spec.endpoints.map((endpoint: Yaml) => endpoint.port),
        management.spec.ports.map((port: Yaml) => port.name),
      );
      const deployment = ofKind(base, 'Deployment')[0];
      const podLabels = deployment.spec.template.metadata.labels;
      const [policy] = ofKind(cluster, 'NetworkPolicy');
      for (const [label, value] of Object.entries(policy.spec.podSelector.matchLabels))
        assert.equal(podLabels[label], value);
      const portNames = deployment.spec.template.spec.containers[0].ports.map((p: Yaml) => p.name);
      const rules = policy.spec.ingress.map((rule: Yaml) => ({
        namespaces: rule.from.map(
          (peer: Yaml) => peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
        ),
        ports: rule.ports.map((port: Yaml) => port.port),
      }));
      assert.deepEqual(rules, [
        { namespaces: ['ingress-nginx'], ports: ['http'] },
        { namespaces: ['monitoring'], ports: ['management'] },
      ]);
      for (const rule of rules) for (const port of rule.ports) assert.ok(portNames.includes(port));
    }
  });

  it('alerts cover outbox age and depth, 5xx, quarantined, verification stuck and conflicted, broker, readiness, top-ups and dead letters', () => {
    const [rules] = ofKind(cluster, 'PrometheusRule');
    const all = rules.spec.groups.flatMap((group: Yaml) => group.rules);
    const exprs = all.map((rule: Yaml) => String(rule.expr));
    const uses = (pattern: RegExp) => exprs.some((expr: string) => pattern.test(expr));
    for (const pattern of [
      /gateway_outbox_oldest_unpublished_age_seconds/,
      /gateway_outbox_backlog/,
      /outcome=~"unavailable\|error"/,
      /outcome="quarantined"/,
      /gateway_verification_oldest_seconds/,
      /result="conflicted"/,
      /gateway_broker_connected/,
      /kube_pod_status_ready/,
      /gateway_topup_placements_total/,
      /outcome="dead-lettered"/,
    ])
      assert.ok(uses(pattern), `no alert on ${pattern}`);
    for (const rule of all) {
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity), rule.alert);
      assert.ok(rule.annotations?.summary, rule.alert);
    }
  });

  it('the Grafana dashboard is valid JSON whose panels query those metrics', () => {
    const [configMap] = ofKind(cluster, 'ConfigMap');
    assert.equal(configMap.metadata.labels.grafana_dashboard, '1');
    const dashboard = JSON.parse(configMap.data['grafana-dashboard.json']) as Yaml;
    assert.equal(dashboard.uid, 'payment-callback-gateway');
    const ids = dashboard.panels.map((panel: Yaml) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const [rules] = ofKind(cluster, 'PrometheusRule');
    const alerted = new Set<string>(
      rules.spec.groups
        .flatMap((group: Yaml) => group.rules)
        .flatMap((rule: Yaml) => metricNames(String(rule.expr)))
        .filter((name: string) => name !== 'up'),
    );
    const shown = new Set(dashboardExprs(dashboard).flatMap(metricNames).map(family));
    assert.deepEqual(
      [...alerted].filter((name) => !shown.has(family(name))),
      [],
    );
  });
});

function dashboardExprs(dashboard: Yaml): string[] {
  return dashboard.panels.flatMap((panel: Yaml) =>
    panel.targets.map((target: Yaml) => String(target.expr)),
  );
}

describe('every metric name of the rules and the dashboard is one the gateway serves', () => {
  let db: TestDatabase;
  let gateway: RunningGateway;
  const exchange = uniqueExchange();
  const queue = uniqueQueue();
  let served: Set<string>;

  before(async () => {
    db = await createTestDatabase('sqlite');
    // Top-ups on (their metrics exist only then), a separate management port as in the kit.
    gateway = await startGateway({
      ...db.env,
      EVENTS_EXCHANGE: exchange,
      MANAGEMENT_PORT: '0',
      ...topupEnv('http://127.0.0.1:9', queue),
    });
    const text = await (await fetch(`${gateway.managementUrl}/metrics`)).text();
    // Every family is declared with # TYPE, whether or not it has been observed yet.
    served = new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((match) => match[1]));
  });
  after(async () => {
    await gateway?.close();
    await deleteQueues(queue, `${queue}.dead-letter`).catch(() => undefined);
    await deleteTopology(exchange).catch(() => undefined);
    await db?.drop();
  });

  it('metricNames reads PromQL as intended', () => {
    assert.deepEqual(
      metricNames(
        'sum by (provider) (rate(gateway_callbacks_total{outcome=~"a|b"}[5m])) / on (pod) up > 0',
      ),
      ['gateway_callbacks_total', 'up'],
    );
    assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))'), [
      'x_bucket',
    ]);
  });

  it('in the PrometheusRule and the dashboard', () => {
    const [rules] = ofKind(cluster, 'PrometheusRule');
    const [configMap] = ofKind(cluster, 'ConfigMap');
    const exprs = [
      ...rules.spec.groups.flatMap((group: Yaml) =>
        group.rules.map((rule: Yaml) => String(rule.expr)),
      ),
      ...dashboardExprs(JSON.parse(configMap.data['grafana-dashboard.json'])),
    ];
    const names = new Set(exprs.flatMap(metricNames));
    assert.ok(names.size >= 12, [...names].join(', '));
    const unknown = [...names].filter(
      (name) => !EXTERNAL_METRICS.has(name) && !served.has(family(name)),
    );
    assert.deepEqual(unknown, [], `not served on /metrics (served: ${[...served].join(', ')})`);
    assert.ok(served.has('gateway_callbacks_total') && served.has('gateway_topup_commands_total'));
  });
});

// The kit's files exist where the docs say.
assert.ok(existsSync(repoPath(CLUSTER, 'kustomization.yaml')));
