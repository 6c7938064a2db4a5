import net from 'node:net';

/**
 * A TCP relay in front of a real service, to take it "offline" for the gateway without stopping
 * the machine's service. `cut()` drops every connection and refuses new ones; `restore()` reopens.
 * `repoint()` sends new connections to another target (as a Kubernetes Service after a failover),
 * leaving the open ones where they are; `freeze()` stops relaying bytes on the open connections
 * without closing them (a hung peer: no reset, no answer).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly frozen = new Set<net.Socket>();
  port = 0;

  constructor(
    private targetHost: string,
    private targetPort: number,
  ) {}

  /** Connections open now (client and target sides count as one). */
  get openConnections(): number {
    return this.sockets.size / 2;
  }

  /** New connections go to `host:port`; open ones stay on the old target. */
  repoint(host: string, port: number): void {
    this.targetHost = host;
    this.targetPort = port;
  }

  /**
   * Called with every chunk the target sends back; answering true drops the chunk and closes both
   * sides of that connection (e.g. a reply lost with its connection after the server committed).
   */
  dropReply: ((chunk: Buffer) => boolean) | null = null;

  /** The open connections stop relaying (both ways) and stay open; new ones are relayed. */
  freeze(): void {
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.removeAllListeners('data');
      socket.pause();
      this.frozen.add(socket);
    }
  }

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => {
          this.sockets.delete(socket);
          this.frozen.delete(socket);
        });
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (this.dropReply?.(chunk)) {
          client.destroy();
          upstream.destroy();
        } else if (!client.write(chunk)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  async restore(): Promise<void> {
    if (this.server) return;
    await this.start(this.port);
  }
}
