import { connect, createServer, type Server, type Socket } from 'node:net';

/** What a proxy knows of one connection through it; `frozen` holds its bytes both ways. */
export interface ProxiedConnectionState {
  frozen: boolean;
}

/**
 * A TCP proxy on loopback that a test can freeze: bytes stop flowing both ways and are held while
 * the sockets stay open (a peer that stopped answering, a network path that hangs), for every
 * connection or for some only, and deliver them later in order; or close (connections reset, new
 * ones refused) and open again on the same port. Subclasses name the connections from what their
 * clients send (`observe`): an HTTP request line, a PostgreSQL startup message.
 */
export abstract class FreezableProxy<C extends ProxiedConnectionState> {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Set<Socket>();
  private readonly held: { connection: C; to: Socket; chunk: Buffer }[] = [];
  /** Every connection so far, in the order they were accepted. */
  protected readonly connectionsSeen: C[] = [];
  private frozenAll = false;
  protected port = 0;

  protected constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** The state of a connection just accepted. */
  protected abstract newConnection(): C;

  /** Sees every chunk a client sends, before it is forwarded (or held). */
  protected abstract observe(connection: C, chunk: Buffer): void;

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.clients.size;
  }

  /** Freezes every connection, open now or opened later, until `release()` or `open()`. */
  freezeAll(): void {
    this.frozenAll = true;
  }

  /**
   * Lets bytes flow again but on connections frozen on their own, delivering what was held for
   * the others in order.
   */
  protected release(): void {
    this.frozenAll = false;
    for (const entry of this.held.splice(0)) {
      if (entry.connection.frozen) this.held.push(entry);
      else if (!entry.to.destroyed) entry.to.write(entry.chunk);
    }
  }

  /** Stops listening and resets every connection: the next connect is refused. */
  async close(): Promise<void> {
    this.held.length = 0;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.clients.clear();
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
    const upstream = connect(this.targetPort, this.targetHost);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.clients.add(client);
    client.on('close', () => this.clients.delete(client));
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const connection = this.newConnection();
    this.connectionsSeen.push(connection);
    client.on('data', (chunk: Buffer) => {
      this.observe(connection, chunk);
      this.forward(connection, upstream, chunk);
    });
    upstream.on('data', (chunk: Buffer) => this.forward(connection, client, chunk));
  }

  private forward(connection: C, to: Socket, chunk: Buffer): void {
    if (this.frozenAll || connection.frozen) this.held.push({ connection, to, chunk });
    else to.write(chunk);
  }
}
