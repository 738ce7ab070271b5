import { dropDatabasesLike } from '../../src/database/database-admin';
import type { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { TEST_ENV } from './test-env';

export default async function globalTeardown(): Promise<void> {
  const serverUrl = process.env[TEST_ENV.serverUrl];
  const template = process.env[TEST_ENV.template];
  if (serverUrl && template) {
    // The template and every per-file clone share its name as prefix.
    await dropDatabasesLike(serverUrl, template);
  }
  const embedded = (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres;
  await embedded?.stop();
}
