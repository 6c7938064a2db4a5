import type { QueueType } from '../config/broker-settings.js';

/**
 * The broker names, queue arguments and URL handling shared by the gateway's broker components
 * and the developer commands (`npm run events`, `simulate -- topup`). Free of NestJS, so those
 * commands start fast.
 */

/** The names the gateway declares on the broker for an events exchange. */
export function brokerTopology(exchange: string) {
  return {
    exchange,
    alternateExchange: `${exchange}.unrouted`,
    unroutedQueue: `${exchange}.unrouted`,
  };
}

/**
 * The options every queue the gateway declares (holding queue, command queue, dead letters) is
 * declared with. A quorum queue is replicated on the cluster's nodes and survives the loss of a
 * minority of them; `classic` (single-node development) declares no `x-queue-type` at all, so it
 * matches a queue declared the way the gateway declared it before quorum queues.
 */
export function queueOptions(type: QueueType): {
  durable: true;
  arguments: Record<string, string>;
} {
  return { durable: true, arguments: type === 'quorum' ? { 'x-queue-type': 'quorum' } : {} };
}

/** Hides credentials in an AMQP URL (or a comma-separated list of them) for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/,]+):([^@/,]+)@/g, '//$1:***@');
}
