/**
 * The broker names and URL redaction shared by the gateway's publisher and the developer
 * commands (`npm run events`, `simulate -- topup`). Free of NestJS, so those commands start fast.
 */

/** The names the gateway declares on the broker for an events exchange. */
export function brokerTopology(exchange: string) {
  return {
    exchange,
    alternateExchange: `${exchange}.unrouted`,
    unroutedQueue: `${exchange}.unrouted`,
  };
}

/** Hides credentials in an AMQP URL for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}
