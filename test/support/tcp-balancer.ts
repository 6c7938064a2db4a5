import net from 'node:net';

/**
 * A round-robin TCP balancer in front of several targets (the nodes of a cluster), as a
 * Kubernetes Service would be: each new connection goes to the next target; a target that
 * refuses is skipped for that connection. Open connections stay where they are (they break
 * when their target dies, and the client reconnects through the balancer).
 */
export class TcpBalancer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private next = 0;
  port = 0;

  constructor(private readonly targets: Array<{ host: string; port: number }>) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  private relay(client: net.Socket): void {
    this.track(client);
    client.pause();
    const attempt = (tries: number) => {
      if (tries >= this.targets.length || client.destroyed) {
        client.destroy();
        return;
      }
      const target = this.targets[this.next % this.targets.length];
      this.next += 1;
      const upstream = net.connect(target.port, target.host);
      upstream.once('error', () => {
        upstream.destroy();
        attempt(tries + 1);
      });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        this.track(upstream);
        client.pipe(upstream).pipe(client);
        client.resume();
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
    };
    attempt(0);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
