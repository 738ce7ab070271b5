import { createServer, type Server, type Socket, connect } from 'node:net';

/** One connection through the proxy, known by the startup message its client sent first. */
interface Connection {
  startup: Buffer | undefined;
  frozen: boolean;
}

/**
 * A TCP proxy in front of the test's PostgreSQL that the test can freeze (bytes stop flowing
 * both ways and are held, sockets stay open: a database that stopped answering, like a SIGSTOP),
 * freeze for some connections only (a half-open LISTEN connection), or close (connections reset,
 * new ones refused: a database that is down).
 */
export class DatabaseProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clients = new Set<Socket>();
  private readonly connectionsSeen: Connection[] = [];
  private readonly held: { connection: Connection; to: Socket; chunk: Buffer }[] = [];
  private frozen = false;
  /** New connections whose application_name ends in this are frozen from their first byte. */
  private freezingNew: string | undefined;
  private port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts a proxy to the server of `databaseUrl`; `url` is the same URL through the proxy. */
  static async start(databaseUrl: string): Promise<DatabaseProxy> {
    const target = new URL(databaseUrl);
    const proxy = new DatabaseProxy(target.hostname, Number(target.port || 5432));
    await proxy.open();
    return proxy;
  }

  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.clients.size;
  }

  freeze(): void {
    this.frozen = true;
  }

  /**
   * How many connections so far had an `application_name` ending in `suffix` in their startup
   * message (the change feed's LISTEN connection ends in `-listener`).
   */
  connectionsEndingIn(suffix: string): number {
    return this.connectionsSeen.filter((c) => endsIn(c, suffix)).length;
  }

  /** Freezes the latest such connection for good; the others pass untouched. */
  freezeLatestEndingIn(suffix: string): void {
    const latest = this.connectionsSeen.filter((c) => endsIn(c, suffix)).at(-1);
    if (!latest) throw new Error(`No connection named *${suffix} through the proxy`);
    latest.frozen = true;
  }

  /**
   * Freezes every connection opened from now on whose `application_name` ends in `suffix`, from
   * its startup message on: it never gets through (a server that does not answer it), until
   * `stopFreezingNew()`; connections frozen meanwhile stay frozen.
   */
  freezeNewEndingIn(suffix: string): void {
    this.freezingNew = suffix;
  }

  stopFreezingNew(): void {
    this.freezingNew = undefined;
  }

  /** Delivers what was held, in order, and lets bytes flow again. */
  unfreeze(): void {
    this.frozen = false;
    const held = this.held.splice(0);
    for (const entry of held) {
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
    this.frozen = false;
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
    const connection: Connection = { startup: undefined, frozen: false };
    this.connectionsSeen.push(connection);
    client.once('data', (chunk: Buffer) => {
      connection.startup = chunk;
      if (this.freezingNew !== undefined && endsIn(connection, this.freezingNew)) {
        connection.frozen = true;
      }
    });
    this.forward(connection, client, upstream);
    this.forward(connection, upstream, client);
  }

  private forward(connection: Connection, from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.frozen || connection.frozen) this.held.push({ connection, to, chunk });
      else to.write(chunk);
    });
  }
}

/** The startup message is NUL-separated key/value pairs: a value ends at a NUL. */
function endsIn(connection: Connection, suffix: string): boolean {
  return connection.startup?.includes(`${suffix}\0`) ?? false;
}
