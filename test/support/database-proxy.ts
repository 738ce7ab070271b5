import { FreezableProxy } from './freezable-proxy';

/** One connection through the proxy, known by the startup message its client sent first. */
interface Connection {
  startup: Buffer | undefined;
  frozen: boolean;
}

/**
 * A freezable proxy (FreezableProxy) in front of the test's PostgreSQL: frozen, a database that
 * stopped answering (like a SIGSTOP); frozen for some connections only, a half-open LISTEN
 * connection; closed, a database that is down.
 */
export class DatabaseProxy extends FreezableProxy<Connection> {
  /** New connections whose application_name ends in this are frozen from their first byte. */
  private freezingNew: string | undefined;

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

  freeze(): void {
    this.freezeAll();
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
   * Lets the latest such connection flow again, delivering what was held for it, in order (and
   * what was held for every connection not frozen on its own, as `unfreeze()` does).
   */
  thawLatestEndingIn(suffix: string): void {
    const latest = this.connectionsSeen.filter((c) => endsIn(c, suffix)).at(-1);
    if (!latest) throw new Error(`No connection named *${suffix} through the proxy`);
    latest.frozen = false;
    this.release();
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

  /** Delivers what was held, in order, and lets bytes flow again, but on connections frozen for good. */
  unfreeze(): void {
    this.release();
  }

  protected newConnection(): Connection {
    return { startup: undefined, frozen: false };
  }

  /** The first chunk is the startup message, which names the connection. */
  protected observe(connection: Connection, chunk: Buffer): void {
    if (connection.startup !== undefined) return;
    connection.startup = chunk;
    if (this.freezingNew !== undefined && endsIn(connection, this.freezingNew)) {
      connection.frozen = true;
    }
  }
}

/** The startup message is NUL-separated key/value pairs: a value ends at a NUL. */
function endsIn(connection: Connection, suffix: string): boolean {
  return connection.startup?.includes(`${suffix}\0`) ?? false;
}
