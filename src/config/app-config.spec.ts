import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('gives working defaults for a development start with no configuration', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.jwtSecretGenerated).toBe(true);
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(config.billingPauseOnDisable).toBe(true);
    expect(config.billingRunCron).toBeUndefined();
  });

  it('refuses to start in production without a JWT secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required/);
  });

  it('refuses a JWT secret shorter than 32 characters', () => {
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET must be at least 32/);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', JWT_TTL: '5' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/LOG_LEVEL/);
    expect(problems).toMatch(/DATABASE_URL/);
    expect(problems).toMatch(/JWT_TTL/);
  });

  it('reads booleans in their usual spellings and rejects others', () => {
    expect(loadConfig({ BILLING_PAUSE_ON_DISABLE: 'off' }).billingPauseOnDisable).toBe(false);
    expect(() => loadConfig({ BILLING_PAUSE_ON_DISABLE: 'maybe' })).toThrow(
      /BILLING_PAUSE_ON_DISABLE/,
    );
  });

  it('takes MIGRATION_DATABASE_URL as the migrating role, only beside DATABASE_URL', () => {
    const owner = 'postgres://owner@db/customer_access';
    const app = 'postgres://app@db/customer_access';
    expect(loadConfig({ DATABASE_URL: app }).migrationDatabaseUrl).toBeUndefined();
    expect(
      loadConfig({ DATABASE_URL: app, MIGRATION_DATABASE_URL: owner }).migrationDatabaseUrl,
    ).toBe(owner);
    expect(() => loadConfig({ DATABASE_URL: app, MIGRATION_DATABASE_URL: 'mysql://x' })).toThrow(
      /MIGRATION_DATABASE_URL must be a postgres/,
    );
    expect(() => loadConfig({ MIGRATION_DATABASE_URL: owner })).toThrow(
      /MIGRATION_DATABASE_URL needs DATABASE_URL/,
    );
  });

  it('accepts a production configuration with a long secret', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
    expect(config.production).toBe(true);
    expect(config.jwtSecretGenerated).toBe(false);
  });

  it('bounds the change feed: a heartbeat every 500 ms, caches bypassed after 2 s without one', () => {
    expect(loadConfig({})).toMatchObject({ changeFeedHeartbeatMs: 500, changeFeedStaleMs: 2000 });
    expect(
      loadConfig({ CHANGE_FEED_HEARTBEAT_MS: '200', CHANGE_FEED_STALE_MS: '1000' }),
    ).toMatchObject({ changeFeedHeartbeatMs: 200, changeFeedStaleMs: 1000 });
    expect(() => loadConfig({ CHANGE_FEED_HEARTBEAT_MS: '3000' })).toThrow(
      /CHANGE_FEED_HEARTBEAT_MS \(3000\) must be less than CHANGE_FEED_STALE_MS \(2000\)/,
    );
    expect(() => loadConfig({ CHANGE_FEED_STALE_MS: 'soon' })).toThrow(/CHANGE_FEED_STALE_MS/);
  });
});
