import { connect, createServer, type Server, type Socket } from 'node:net';

/** One connection through the proxy, known by the last HTTP request line its client sent. */
export interface ProxiedConnection {
  /** `GET /api/v1/access/stream`, say; undefined before the first request. */
  lastRequest: string | undefined;
  frozen: boolean;
}

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/;

/**
 * A TCP proxy in front of an HTTP server (a service instance) that a test can freeze: bytes stop
 * flowing both ways and are held while the sockets stay open, as behind a proxy or a network path
 * that hangs. It can freeze some connections only (picked by the last request they carried, so
 * that a stream hangs while other requests pass), every connection old and new, or close
 * (connections reset, new ones refused).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly connections: ProxiedConnection[] = [];
  private readonly held: { connection: ProxiedConnection; to: Socket; chunk: Buffer }[] = [];
  private frozenAll = false;
  private port = 0;

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await proxy.open();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections through the proxy whose last request matched `pattern`. */
  carrying(pattern: RegExp): ProxiedConnection[] {
    return this.connections.filter(
      (c) => c.lastRequest !== undefined && pattern.test(c.lastRequest),
    );
  }

  /** Freezes the connections whose last request matches `pattern`; the others pass. */
  freezeCarrying(pattern: RegExp): number {
    const matching = this.carrying(pattern);
    for (const connection of matching) connection.frozen = true;
    return matching.length;
  }

  /** Freezes every connection, open now or opened later. */
  freezeAll(): void {
    this.frozenAll = true;
  }

  /** Lets bytes flow again, delivering what was held, in order. */
  unfreeze(): void {
    this.frozenAll = false;
    for (const connection of this.connections) connection.frozen = false;
    for (const { to, chunk } of this.held.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  /** Stops listening and resets every connection: the next connect is refused. */
  async close(): Promise<void> {
    this.held.length = 0;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again, on the same port as before (the first time: any free port). */
  async open(): Promise<void> {
    this.frozenAll = false;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const connection: ProxiedConnection = { lastRequest: undefined, frozen: false };
    this.connections.push(connection);
    client.on('data', (chunk: Buffer) => {
      const line = REQUEST_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 2048)));
      if (line) connection.lastRequest = `${line[1]} ${line[2]}`;
      this.forward(connection, upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => this.forward(connection, client, chunk));
  }

  private forward(connection: ProxiedConnection, to: Socket, chunk: Buffer): void {
    if (this.frozenAll || connection.frozen) this.held.push({ connection, to, chunk });
    else to.write(chunk);
  }
}
