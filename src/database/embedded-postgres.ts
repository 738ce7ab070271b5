import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  url: string;
  dataDir: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL compiled to WebAssembly (PGlite) inside this process and serves it on a
 * loopback port, so that `pg`/TypeORM use it like any server. It needs nothing installed.
 *
 * Limits to know: PGlite runs one transaction at a time across all connections, and does not
 * deliver LISTEN/NOTIFY between connections, so it serves a single instance of the service.
 *
 * @param dataDir where the files live (kept across restarts); undefined keeps them in memory.
 */
export async function startEmbeddedPostgres(options: {
  dataDir?: string;
  maxConnections: number;
  port?: number;
}): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  const port = options.port ?? 0;
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port,
    // Its default of 1 resets every connection beyond the first; the pool needs them all.
    maxConnections: options.maxConnections,
  });
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:<port>"
  return {
    url: `postgres://postgres@${conn}/postgres`,
    dataDir,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
