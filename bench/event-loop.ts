/**
 * Preload for a benchmark's gateway (`BENCH_GATEWAY_NODE_ARGS="--import ./dist/bench/event-loop.js"`):
 * once a second, the event loop's utilization and the process's CPU seconds, appended to
 * `/tmp/event-loop.<pid>.txt`. Utilization near 1 with CPU below it: the thread is busy but waits
 * for a core; both near 1: the thread itself is the limit.
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const file = `/tmp/event-loop.${process.pid}.txt`;
let loop = performance.eventLoopUtilization();
let cpu = process.cpuUsage();
setInterval(() => {
  const nextLoop = performance.eventLoopUtilization();
  const used = process.cpuUsage(cpu);
  appendFileSync(
    file,
    `${performance.eventLoopUtilization(nextLoop, loop).utilization.toFixed(2)} ` +
      `${((used.user + used.system) / 1e6).toFixed(2)}\n`,
  );
  loop = nextLoop;
  cpu = process.cpuUsage();
}, 1000).unref();
