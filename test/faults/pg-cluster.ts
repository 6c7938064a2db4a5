import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { sleep } from '../support/broker.js';

/**
 * Extra PostgreSQL 15 clusters for the failover suite (Debian postgresql-common: pg_createcluster,
 * pg_basebackup -R, pg_ctlcluster … promote), never the machine's "main" cluster. Every cluster and
 * every stopped process is recorded so `cleanupClusters()` — called from after hooks and, as a last
 * resort, from a process 'exit' handler — drops them whatever happened.
 */

const VERSION = '15';
const created = new Set<string>();
const stopped = new Set<number>();

function run(command: string, args: string[], timeoutMs = 60_000): string {
  return execFileSync(command, args, { encoding: 'utf8', timeout: timeoutMs, stdio: 'pipe' });
}

/** Synchronous, so it also runs from process.on('exit'). */
export function cleanupClusters(): void {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
  stopped.clear();
  for (const name of created) {
    try {
      run('pg_dropcluster', ['--stop', VERSION, name], 30_000);
    } catch {
      // try the data directory's processes the hard way, then drop again
      try {
        run('pg_ctlcluster', [VERSION, name, 'stop', '-m', 'immediate'], 15_000);
      } catch {
        // not running
      }
      try {
        run('pg_dropcluster', [VERSION, name], 30_000);
      } catch {
        // reported by the suite's leftover check
      }
    }
    created.delete(name);
  }
}

process.on('exit', cleanupClusters);
// The test runner ends a file that overran its time with a signal: clean up on those too.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanupClusters();
    process.exit(1);
  });
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface Cluster {
  name: string;
  port: number;
  dataDir: string;
  url(database?: string): string;
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<T[]>;
  /** The postmaster's pid and its children (backends, WAL sender, …). */
  pids(): number[];
  kill9(): void;
  /** SIGSTOP every process of the cluster: it hangs, nothing is reset. */
  hang(): void;
  promote(): void;
}

function clusterOf(name: string, port: number): Cluster {
  const dataDir = `/var/lib/postgresql/${VERSION}/${name}`;
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const pids = () => {
    const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    const children = run('ps', ['-o', 'pid=', '--ppid', String(postmaster)])
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
    return [postmaster, ...children];
  };
  return {
    name,
    port,
    dataDir,
    url,
    async query(sql, params = [], database = 'postgres') {
      const client = new pg.Client({
        connectionString: url(database),
        connectionTimeoutMillis: 5_000,
        query_timeout: 60_000,
      });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    pids,
    kill9() {
      for (const pid of pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    hang() {
      for (const pid of pids()) {
        process.kill(pid, 'SIGSTOP');
        stopped.add(pid);
      }
    },
    promote() {
      run('pg_ctlcluster', [VERSION, name, 'promote'], 60_000);
    },
  };
}

async function waitReady(cluster: Cluster, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await cluster.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

const SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  'max_connections = 60',
  'shared_buffers = 32MB',
  'wal_level = replica',
  'max_wal_senders = 5',
  'wal_keep_size = 128MB',
  'hot_standby = on',
  // A kill -9 of PostgreSQL loses no page the kernel holds; fsync only costs time here.
  'fsync = off',
  'full_page_writes = off',
  'wal_sender_timeout = 5s',
  'wal_receiver_timeout = 5s',
];

/** Settings in the cluster's conf.d (Debian's postgresql.conf includes it). */
function configure(name: string, extra: string[]): void {
  writeFileSync(
    `/etc/postgresql/${VERSION}/${name}/conf.d/gwfault.conf`,
    [...SETTINGS, ...extra, ''].join('\n'),
  );
}

/**
 * A primary with `database` created, and a standby cloned from it (pg_basebackup -R) streaming
 * through `replicationPort` when given (a relay that can lag), else straight from the primary.
 * synchronous: commits wait for the standby's flush (synchronous_standby_names = '*').
 */
export async function createPair(
  tag: string,
  options: {
    synchronous: boolean;
    database: string;
    replicationVia?: (primaryPort: number) => Promise<number>;
  },
): Promise<{ primary: Cluster; standby: Cluster }> {
  const primaryName = `gwfault${process.pid}${tag}p`;
  const standbyName = `gwfault${process.pid}${tag}s`;
  const primaryPort = await freePort();
  const standbyPort = await freePort();

  created.add(primaryName);
  run('pg_createcluster', [VERSION, primaryName, '-p', String(primaryPort), '--', '--auth=trust']);
  // Asynchronous until the standby streams (a synchronous primary alone would wait forever).
  configure(primaryName, ["synchronous_standby_names = ''"]);
  run('pg_ctlcluster', [VERSION, primaryName, 'start']);
  const primary = clusterOf(primaryName, primaryPort);
  await waitReady(primary);
  await primary.query(`CREATE DATABASE ${options.database}`);

  created.add(standbyName);
  run('pg_createcluster', [VERSION, standbyName, '-p', String(standbyPort), '--', '--auth=trust']);
  configure(standbyName, []);
  const standby = clusterOf(standbyName, standbyPort);
  // Emptied, not removed: the directory is the postgres user's, its parent is not.
  run('find', [standby.dataDir, '-mindepth', '1', '-delete']);
  run('runuser', [
    '-u',
    'postgres',
    '--',
    'pg_basebackup',
    '-h',
    '127.0.0.1',
    '-p',
    String(primaryPort),
    '-U',
    'postgres',
    '-D',
    standby.dataDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
  ]);
  if (options.replicationVia) {
    // The standby streams through a relay (e.g. one that lags): primary_conninfo points at it.
    const relayPort = await options.replicationVia(primaryPort);
    const auto = `${standby.dataDir}/postgresql.auto.conf`;
    writeFileSync(auto, readFileSync(auto, 'utf8').replace(/port=\d+/, `port=${relayPort}`));
  }
  run('pg_ctlcluster', [VERSION, standbyName, 'start']);
  await waitReady(standby);
  // The standby streams (and, when synchronous, acknowledges) before the test starts.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await primary.query<{ state: string }>(`SELECT state FROM pg_stat_replication`);
    if (rows.some((r) => r.state === 'streaming')) break;
    if (Date.now() > deadline) throw new Error('the standby did not start streaming');
    await sleep(200);
  }
  if (options.synchronous) {
    await primary.query(`ALTER SYSTEM SET synchronous_standby_names = '*'`);
    await primary.query(`ALTER SYSTEM SET synchronous_commit = 'on'`);
    await primary.query(`SELECT pg_reload_conf()`);
    const until = Date.now() + 30_000;
    for (;;) {
      const rows = await primary.query<{ sync_state: string }>(
        `SELECT sync_state FROM pg_stat_replication`,
      );
      if (rows.some((r) => r.sync_state === 'sync')) break;
      if (Date.now() > until) throw new Error('the standby did not become synchronous');
      await sleep(100);
    }
  }
  return { primary, standby };
}

/** Clusters of this process still registered with postgresql-common (for the leftover check). */
export function leftoverClusters(): string[] {
  return run('pg_lsclusters', ['-h'])
    .split('\n')
    .map((line) => line.split(/\s+/)[1])
    .filter((name) => name?.startsWith(`gwfault${process.pid}`));
}
