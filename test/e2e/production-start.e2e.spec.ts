import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { ConfigError } from '../../src/config/app-config';
import { createTestDatabase, startTestApp, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

// Production refuses to start without a key that signs the audit chain's checkpoints.
const PRODUCTION = {
  NODE_ENV: 'production',
  AUDIT_SIGNING_KEY: Buffer.alloc(32, 1).toString('base64'),
};

// Needs a database of its own with no staff user: the embedded engine's is shared by every file.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

describeOnPostgres('a production start (skipped on the embedded engine)', () => {
  let database: TestDatabase;
  let direct: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    direct = new Client({ connectionString: database.url });
    await direct.connect();
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await direct.end();
    await database.drop();
  });

  const staffCount = async () =>
    Number(
      (await direct.query<{ count: string }>('SELECT count(*)::text AS count FROM staff_users'))
        .rows[0].count,
    );

  /** Every line the service logs while `run` goes, whatever its level. */
  async function logged(run: () => Promise<unknown>): Promise<string[]> {
    const lines: string[] = [];
    for (const level of ['log', 'warn', 'error', 'debug', 'verbose'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
    }
    await run();
    return lines;
  }

  it('refuses to start with no staff user and no ADMIN_PASSWORD, generating and printing no password', async () => {
    expect(await staffCount()).toBe(0);
    let error: unknown;
    const lines = await logged(async () => {
      error = await startTestApp(
        { ...PRODUCTION, DATABASE_URL: database.url, ADMIN_PASSWORD: '' },
        { database },
      ).then(
        async (t) => {
          await t.close();
          return undefined;
        },
        (caught: unknown) => caught,
      );
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      /No staff user exists yet and ADMIN_PASSWORD is not set.*Set ADMIN_EMAIL and ADMIN_PASSWORD/s,
    );
    expect(lines.join('\n')).not.toMatch(/password: /i);
    expect(await staffCount()).toBe(0);
  });

  it('starts with ADMIN_EMAIL and ADMIN_PASSWORD, and later without them once an admin exists', async () => {
    const first = await startTestApp({ ...PRODUCTION, DATABASE_URL: database.url }, { database });
    await first.close();
    expect(await staffCount()).toBe(1);

    const lines = await logged(async () => {
      const again = await startTestApp(
        { ...PRODUCTION, DATABASE_URL: database.url, ADMIN_PASSWORD: '' },
        { database },
      );
      await again.close();
    });
    expect(lines.join('\n')).not.toMatch(/generated password/i);
    expect(await staffCount()).toBe(1);
  });
});
