/**
 * The demo configuration (NODE_ENV unset, nothing configured) publishes its admin key and signs
 * anything at /dev/sign: with HOST=0.0.0.0 it still listens on loopback only, and says so.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { banner, type DemoGateway, startDemoGateway } from './support/demo-gateway.js';

/** An address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('the demo with HOST=0.0.0.0', () => {
  let gateway: DemoGateway;
  before(async () => (gateway = await startDemoGateway({ HOST: '0.0.0.0' })));
  after(() => gateway?.stop());

  it('listens on loopback only and explains why HOST was ignored', async () => {
    assert.ok(
      banner(gateway.stderr()).some((line) => /listening\s+http:\/\/127\.0\.0\.1:/.test(line)),
      gateway.stderr(),
    );
    assert.match(gateway.stderr(), /HOST=0\.0\.0\.0 ignored: the demo configuration publishes/);
    assert.equal(await reachable('127.0.0.1', gateway.port), true);
    const external = externalAddress();
    if (external) assert.equal(await reachable(external, gateway.port), false, external);
  });
});
