import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './broker.js';
import { freePort } from './gateway-process.js';

const run = promisify(execFile);

/**
 * Scheduling priority for a process that runs these nodes beside other suites (`npm test` runs
 * two files at once on the same cores): set on itself, inherited by the nodes, rabbitmqctl and a
 * gateway it spawns.
 */
export const NICE = 10;

/** The RabbitMQ release's own scripts (Debian's /usr/sbin wrappers switch user and log files). */
export function rabbitScripts(): string | null {
  const base = '/usr/lib/rabbitmq/lib';
  if (!existsSync(base)) return null;
  const release = readdirSync(base)
    .filter((d) => d.startsWith('rabbitmq_server-'))
    .sort()
    .pop();
  return release ? join(base, release, 'sbin') : null;
}

/** Every node this process started (beam.smp pids, process groups): killed on exit, whatever happens. */
const started = new Set<number>();
const groups = new Set<number>();
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
/** Directories of clusters not yet stopped: removed on exit too. */
const directories = new Set<string>();
process.on('exit', () => {
  for (const pid of started) killQuietly(pid);
  for (const group of groups) killQuietly(-group);
  for (const dir of directories) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

/**
 * A detached shell that outlives this process: once it is gone — even killed by the test
 * runner's timeout, when no 'exit' handler runs — it kills every node of `dir` (their pid
 * files) and removes the directory.
 */
function watchdog(dir: string): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
for f in "${dir}"/*/pid "${dir}"/adopted.pid.*; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
sleep 1; rm -rf "${dir}"`;
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface RabbitNode {
  name: string;
  amqpPort: number;
  distPort: number;
  dir: string;
  /** The OS pid of beam.smp while running. */
  pid: number | null;
  url: string;
}

/**
 * A throw-away RabbitMQ cluster of extra nodes beside the machine's own (rabbit@ on 5672 is never
 * touched): own node names, AMQP and distribution ports, data and log directories under a temp
 * directory, no plugins. `stop()` kills every node and removes the directory.
 */
export class RabbitCluster {
  readonly nodes: RabbitNode[] = [];
  private constructor(
    readonly dir: string,
    private readonly sbin: string,
  ) {}

  static async start(size = 3): Promise<RabbitCluster> {
    const sbin = rabbitScripts();
    if (!sbin) throw new Error('RabbitMQ is not installed (/usr/lib/rabbitmq/lib)');
    const dir = mkdtempSync(join(tmpdir(), 'gw-rabbit-cluster-'));
    directories.add(dir);
    watchdog(dir);
    const cluster = new RabbitCluster(dir, sbin);
    try {
      // root's cookie when it has one, else one of this cluster's own.
      const rootCookie = join(homedir(), '.erlang.cookie');
      const cookie = existsSync(rootCookie)
        ? readFileSync(rootCookie, 'utf8').trim()
        : randomBytes(20).toString('hex').toUpperCase();
      mkdirSync(join(dir, 'home'));
      writeFileSync(join(dir, 'home', '.erlang.cookie'), cookie);
      chmodSync(join(dir, 'home', '.erlang.cookie'), 0o400);
      writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
      writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
      const tag = randomBytes(3).toString('hex');
      for (let i = 1; i <= size; i += 1) {
        const amqpPort = await freePort();
        const distPort = await freePort();
        const name = `gwq${i}-${tag}@localhost`;
        const nodeDir = join(dir, `gwq${i}`);
        mkdirSync(join(nodeDir, 'log'), { recursive: true });
        writeFileSync(
          join(nodeDir, 'rabbitmq.conf'),
          `listeners.tcp.local = 127.0.0.1:${amqpPort}\nloopback_users = none\n`,
        );
        cluster.nodes.push({
          name,
          amqpPort,
          distPort,
          dir: nodeDir,
          pid: null,
          url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        });
      }
      await Promise.all(cluster.nodes.map((node) => cluster.startNode(node)));
      const [first, ...others] = cluster.nodes;
      for (const node of others) {
        await cluster.ctl(node, 'stop_app');
        await cluster.ctl(node, 'join_cluster', first.name);
        await cluster.ctl(node, 'start_app');
      }
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Starts a node (again: same name, ports and data, so it rejoins) and waits until it runs. */
  async startNode(node: RabbitNode): Promise<void> {
    const child = spawn(join(this.sbin, 'rabbitmq-server'), [], {
      cwd: node.dir,
      detached: true,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: join(this.dir, 'home'),
        RABBITMQ_NODENAME: node.name,
        RABBITMQ_NODE_PORT: String(node.amqpPort),
        RABBITMQ_DIST_PORT: String(node.distPort),
        RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
        RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq.conf'),
        RABBITMQ_ADVANCED_CONFIG_FILE: join(node.dir, 'advanced.config'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(node.dir, 'log'),
        RABBITMQ_PID_FILE: join(node.dir, 'pid'),
        ERL_EPMD_ADDRESS: '127.0.0.1',
        // One scheduler each: three nodes share the machine with the other suites.
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1} +S 1:1',
      },
    });
    child.unref();
    if (child.pid) groups.add(child.pid);
    // Booted once its AMQP listener accepts (RabbitMQ opens it last); no CLI call, which would
    // cost a second or two of CPU each.
    const deadline = Date.now() + 90_000;
    while (!(await accepts(node.amqpPort))) {
      if (Date.now() > deadline) throw new Error(`${node.name} did not start within 90 s`);
      await sleep(200);
    }
    // beam.smp's OS pid, as `rabbitmqctl eval 'os:getpid().'` gives it, written at boot.
    node.pid = Number(readFileSync(join(node.dir, 'pid'), 'utf8').trim());
    started.add(node.pid);
  }

  /** Another process (e.g. a gateway) the watchdog kills too if this process dies first. */
  adopt(pid: number): void {
    writeFileSync(join(this.dir, `adopted.pid.${pid}`), String(pid));
  }

  /** Forgets an adopted process that ended (its pid may be reused). */
  release(pid: number): void {
    rmSync(join(this.dir, `adopted.pid.${pid}`), { force: true });
  }

  /** rabbitmqctl against one of this cluster's nodes (never the machine's rabbit@). */
  ctl(node: RabbitNode, ...args: string[]) {
    return run(join(this.sbin, 'rabbitmqctl'), ['-q', '-n', node.name, ...args], {
      timeout: 90_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(this.dir, 'home') },
    });
  }

  /** kill -9 of the node's beam.smp: no goodbye to clients or peers. */
  kill(node: RabbitNode): void {
    if (node.pid === null) return;
    killQuietly(node.pid);
    started.delete(node.pid);
    node.pid = null;
    // A stale pid file would make a restart's `wait` and the watchdog look at a dead (or reused) pid.
    rmSync(join(node.dir, 'pid'), { force: true });
  }

  nodeByPort(port: number): RabbitNode | undefined {
    return this.nodes.find((n) => n.amqpPort === port);
  }

  running(): RabbitNode[] {
    return this.nodes.filter((n) => n.pid !== null);
  }

  /** A query answered by any running node, as JSON rows. */
  async list(what: 'list_queues' | 'list_connections', ...items: string[]) {
    const node = this.running()[0];
    const { stdout } = await this.ctl(node, what, ...items, '--formatter', 'json');
    return JSON.parse(stdout || '[]') as Array<Record<string, unknown>>;
  }

  /** The node leading a quorum queue (null when it has none or is not a quorum queue). */
  async leaderOf(queue: string): Promise<RabbitNode | null> {
    const rows = await this.list('list_queues', 'name', 'type', 'leader');
    const row = rows.find((r) => r.name === queue);
    return this.nodes.find((n) => n.name === row?.leader) ?? null;
  }

  /** The node a client connection named `connectionName` is on (its listener port). */
  async nodeOfConnection(connectionName: string): Promise<RabbitNode | null> {
    const rows = await this.list('list_connections', 'name', 'client_properties');
    for (const row of rows) {
      const props = (row.client_properties ?? []) as Array<[string, string, unknown]>;
      const named = props.find(([key]) => key === 'connection_name')?.[2];
      if (named !== connectionName) continue;
      const port = Number(/:(\d+)$/.exec(String(row.name))?.[1]);
      return this.nodeByPort(port) ?? null;
    }
    return null;
  }

  async stop(): Promise<void> {
    const pids = this.nodes.map((n) => n.pid).filter((pid): pid is number => pid !== null);
    for (const node of this.nodes) this.kill(node);
    for (const group of groups) killQuietly(-group);
    groups.clear();
    // Gone before their files are removed (a dying node may still write its logs).
    for (let i = 0; i < 50 && pids.some(alive); i += 1) await sleep(100);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    directories.delete(this.dir);
  }
}
