import amqplib from 'amqplib';
import { randomBytes, randomUUID } from 'node:crypto';
import { type PpobSandbox, ppobSandbox } from '../../src/providers/ppob/ppob.sandbox.js';
import {
  type SidopulsaSandbox,
  sidopulsaSandbox,
} from '../../src/providers/sidopulsa/sidopulsa.sandbox.js';
import type { TopupSandboxTiming } from '../../src/sandbox/topup-sandbox.js';
import { queueOptions } from '../../src/messaging/broker-topology.js';
import { AMQP_URL, sleep } from './broker.js';
import { PPOB, SIDOPULSA } from './credentials.js';
import type { DatabaseKind } from './databases.js';
import { createTestBed, startGateway, type RunningGateway, type TestBed } from './gateway.js';
import { type RunningSandbox, startSandbox } from '../../src/dev/sandbox.js';

/** The provider accounts the sandbox knows and the test gateways order with. */
export const PPOB_API = { username: 'gw-partner-01', token: 'ppob-api-token-test-0123456789' };
export const SIDOPULSA_API = { apiUser: 'gwreseller01', apiKey: 'sidopulsa-api-key-test-abcdef' };
export const ADMIN_KEY = 'topup-test-admin-key-0123456789';

export interface TopupBed {
  bed: TestBed;
  sandbox: RunningSandbox;
  ppob: PpobSandbox;
  sidopulsa: SidopulsaSandbox;
  queue: string;
  /** Another gateway on the same database, broker and sandbox (a second replica). */
  replica(): Promise<RunningGateway>;
  teardown(): Promise<void>;
}

/** The gateway environment that points its order clients at `sandboxUrl`. */
export function topupEnv(sandboxUrl: string, queue: string): Record<string, string> {
  return {
    PPOB_API_URL: sandboxUrl,
    PPOB_USERNAME: PPOB_API.username,
    PPOB_API_TOKEN: PPOB_API.token,
    SIDOPULSA_API_URL: sandboxUrl,
    SIDOPULSA_API_USER: SIDOPULSA_API.apiUser,
    SIDOPULSA_API_KEY: SIDOPULSA_API.apiKey,
    TOPUP_COMMANDS_QUEUE: queue,
    TOPUP_REQUEST_TIMEOUT_MS: '1000',
    TOPUP_LEASE_MS: '3000',
    TOPUP_RETRY_BASE_MS: '100',
    TOPUP_RETRY_MAX_MS: '1000',
    TOPUP_POLL_INTERVAL_MS: '200',
    ADMIN_API_KEY: ADMIN_KEY,
  };
}

export const uniqueQueue = () => `test.topups.${randomBytes(5).toString('hex')}`;

/** Both sandboxes on one loopback server, sending their reports to the gateway under test. */
export async function startTopupSandbox(timing: TopupSandboxTiming = {}) {
  const host = await startSandbox({
    providers: [
      ppobSandbox({ ...PPOB_API, callbackToken: PPOB.token, reportDelayMs: 300, ...timing }),
      sidopulsaSandbox({
        ...SIDOPULSA_API,
        callbackToken: SIDOPULSA.token,
        reportDelayMs: 300,
        ...timing,
      }),
    ],
  });
  return {
    host,
    ppob: host.provider<PpobSandbox>('ppob'),
    sidopulsa: host.provider<SidopulsaSandbox>('sidopulsa'),
  };
}

/** A gateway with top-up orders on, its sandbox, and a unique commands queue. */
export async function createTopupBed(
  kind: DatabaseKind,
  options: { timing?: TopupSandboxTiming; env?: Record<string, string> } = {},
): Promise<TopupBed> {
  const { host, ppob, sidopulsa } = await startTopupSandbox(options.timing);
  const queue = uniqueQueue();
  const bed = await createTestBed(
    kind,
    { ...topupEnv(host.url, queue), ...options.env },
    'topup.#',
  );
  host.setGatewayUrl(bed.gateway.url);
  const replicas: RunningGateway[] = [];
  return {
    bed,
    sandbox: host,
    ppob,
    sidopulsa,
    queue,
    async replica() {
      const gateway = await startGateway(bed.env);
      await gateway.brokerReady();
      replicas.push(gateway);
      return gateway;
    },
    async teardown() {
      for (const gateway of replicas) await gateway.close().catch(() => undefined);
      await bed.teardown();
      await host.close();
      await deleteQueues(queue, `${queue}.dead-letter`);
    },
  };
}

/** A `topup.requested` CloudEvent carrying `data`. */
export function topupCommand(data: Record<string, unknown>, id = randomUUID()) {
  return {
    specversion: '1.0',
    id,
    source: '/services/test-fulfilment',
    type: 'topup.requested',
    datacontenttype: 'application/json',
    data,
  };
}

/** Publishes raw bodies to the commands queue (declared as the gateway declares it), confirmed. */
export async function publishCommands(
  queue: string,
  bodies: Array<Buffer | string | object>,
): Promise<void> {
  const connection = await amqplib.connect(AMQP_URL);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, queueOptions('quorum'));
    for (const body of bodies) {
      const content = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      channel.sendToQueue(queue, content, {
        persistent: true,
        contentType: 'application/cloudevents+json',
      });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

export async function queueDepth(queue: string): Promise<number> {
  const connection = await amqplib.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close();
  }
}

export async function deleteQueues(...queues: string[]): Promise<void> {
  const connection = await amqplib.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue).catch(() => undefined);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}
