import { FreezableProxy } from './freezable-proxy';

/** One connection through the proxy, known by the last HTTP request line its client sent. */
export interface ProxiedConnection {
  /** `GET /api/v1/access/stream`, say; undefined before the first request. */
  lastRequest: string | undefined;
  frozen: boolean;
}

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/;

/**
 * A freezable proxy (FreezableProxy) in front of an HTTP server (a service instance): it can
 * freeze some connections only, picked by the last request they carried (so that a stream hangs
 * while other requests pass), every connection old and new, or close.
 */
export class TcpProxy extends FreezableProxy<ProxiedConnection> {
  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy('127.0.0.1', targetPort);
    await proxy.open();
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections through the proxy whose last request matched `pattern`. */
  carrying(pattern: RegExp): ProxiedConnection[] {
    return this.connectionsSeen.filter(
      (c) => c.lastRequest !== undefined && pattern.test(c.lastRequest),
    );
  }

  /** Freezes the connections whose last request matches `pattern`; the others pass. */
  freezeCarrying(pattern: RegExp): number {
    const matching = this.carrying(pattern);
    for (const connection of matching) connection.frozen = true;
    return matching.length;
  }

  /** Lets bytes flow again on every connection, delivering what was held, in order. */
  unfreeze(): void {
    for (const connection of this.connectionsSeen) connection.frozen = false;
    this.release();
  }

  protected newConnection(): ProxiedConnection {
    return { lastRequest: undefined, frozen: false };
  }

  protected observe(connection: ProxiedConnection, chunk: Buffer): void {
    const line = REQUEST_LINE.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 2048)));
    if (line) connection.lastRequest = `${line[1]} ${line[2]}`;
  }
}
