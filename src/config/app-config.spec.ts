import {
  ConfigError,
  DEFAULT_HOLD_REASON_CUSTOMER_TEXTS,
  emailsEnabled,
  loadConfig,
  parseDurations,
} from './app-config';

/** The base64 of a 32-byte Ed25519 seed. */
const AUDIT_KEY = Buffer.alloc(32, 3).toString('base64');

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

  it('accepts a production configuration with a long secret, a database URL and an audit signing key', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      DATABASE_URL: 'postgres://app@db.internal:5432/access',
      AUDIT_SIGNING_KEY: AUDIT_KEY,
    });
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

  describe('NODE_ENV', () => {
    it('refuses a value that is not development, production or test (a typo must not mean development)', () => {
      expect(() => loadConfig({ NODE_ENV: 'prod' })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: 'prod' })).toThrow(
        /NODE_ENV must be one of development, production, test \(got "prod"\)/,
      );
      expect(() => loadConfig({ NODE_ENV: 'Production' })).toThrow(/NODE_ENV/);
    });

    it('accepts development, test and production, and defaults to development', () => {
      expect(loadConfig({}).nodeEnv).toBe('development');
      expect(loadConfig({ NODE_ENV: 'test' })).toMatchObject({
        nodeEnv: 'test',
        production: false,
      });
      expect(loadConfig({ NODE_ENV: 'development' }).production).toBe(false);
    });
  });

  it('refuses to start in production without DATABASE_URL (the embedded database is not for production)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).toThrow(
      /DATABASE_URL is required when NODE_ENV=production/,
    );
    // Outside production the embedded database stays the default.
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(40) }).databaseUrl).toBeUndefined();
  });

  describe('BILLING_RUN_CRON', () => {
    const problemsOf = (expression: string): string[] => {
      try {
        loadConfig({ BILLING_RUN_CRON: expression });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };

    it('refuses an expression that does not parse, naming the variable, without a stack trace', () => {
      const problems = problemsOf('a b c d e');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^BILLING_RUN_CRON is not a valid cron expression/);
      expect(problems[0]).toMatch(/\(got "a b c d e"\)$/);
      expect(problems[0]).not.toMatch(/\n|\bat /);
      expect(problemsOf('61 * * * *')[0]).toMatch(/BILLING_RUN_CRON .*out of range/);
      expect(problemsOf('* * * * * * *')[0]).toMatch(/BILLING_RUN_CRON .*Too many fields/);
    });

    it('refuses an expression that parses but never fires', () => {
      expect(problemsOf('0 0 30 2 *')).toEqual(['BILLING_RUN_CRON never fires (got "0 0 30 2 *")']);
    });

    it('accepts five- and six-field expressions', () => {
      expect(loadConfig({ BILLING_RUN_CRON: '0 3 * * *' }).billingRunCron).toBe('0 3 * * *');
      expect(problemsOf('*/10 * * * * *')).toEqual([]);
      expect(problemsOf('0 2 1 * *')).toEqual([]);
    });
  });

  describe('database timeouts', () => {
    it('default to 5 s to connect, 15 s a statement and 5 s a lock', () => {
      expect(loadConfig({})).toMatchObject({
        databaseConnectTimeoutMs: 5000,
        databaseStatementTimeoutMs: 15_000,
        databaseLockTimeoutMs: 5000,
      });
    });

    it('read milliseconds and refuse zero, negatives and words, naming each variable', () => {
      expect(
        loadConfig({
          DATABASE_CONNECT_TIMEOUT_MS: '2000',
          DATABASE_STATEMENT_TIMEOUT_MS: '30000',
          DATABASE_LOCK_TIMEOUT_MS: '1000',
        }),
      ).toMatchObject({
        databaseConnectTimeoutMs: 2000,
        databaseStatementTimeoutMs: 30_000,
        databaseLockTimeoutMs: 1000,
      });
      let error: unknown;
      try {
        loadConfig({
          DATABASE_CONNECT_TIMEOUT_MS: '0',
          DATABASE_STATEMENT_TIMEOUT_MS: '-1',
          DATABASE_LOCK_TIMEOUT_MS: 'five',
        });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/DATABASE_CONNECT_TIMEOUT_MS must be an integer from 100/);
      expect(problems).toMatch(/DATABASE_STATEMENT_TIMEOUT_MS must be an integer from 100/);
      expect(problems).toMatch(/DATABASE_LOCK_TIMEOUT_MS must be an integer from 100/);
    });
  });

  describe('holds', () => {
    it('default to six reason codes, a 30-day review and a 200 ms scheduler', () => {
      const config = loadConfig({});
      expect(config.holdReasonCodes).toEqual([
        'non_payment',
        'dispute',
        'customer_request',
        'compliance',
        'security',
        'other',
      ]);
      expect(config.holdReviewDays).toBe(30);
      expect(config.holdSchedulerIntervalMs).toBe(200);
    });

    it('read HOLD_REASON_CODES comma-separated, trimmed, without duplicates', () => {
      expect(loadConfig({ HOLD_REASON_CODES: ' fraud , other,fraud' }).holdReasonCodes).toEqual([
        'fraud',
        'other',
      ]);
    });

    it('refuse codes that are not lower-case words, a list without `other`, and bad numbers', () => {
      expect(() => loadConfig({ HOLD_REASON_CODES: 'Fraud,other' })).toThrow(
        /HOLD_REASON_CODES must be lower-case codes/,
      );
      expect(() => loadConfig({ HOLD_REASON_CODES: 'fraud' })).toThrow(
        /HOLD_REASON_CODES must include `other`/,
      );
      expect(() => loadConfig({ HOLD_REVIEW_DAYS: '0' })).toThrow(/HOLD_REVIEW_DAYS/);
      expect(() => loadConfig({ HOLD_SCHEDULER_INTERVAL_MS: '5' })).toThrow(
        /HOLD_SCHEDULER_INTERVAL_MS/,
      );
    });
  });
  describe('events out: webhooks and customer emails', () => {
    it('default to the contract: retries 5s..10h, private networks allowed except in production, no emails', () => {
      const config = loadConfig({});
      expect(config.webhookRetryScheduleMs).toEqual([
        5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
      ]);
      expect(config.webhookTimeoutMs).toBe(10_000);
      expect(config.webhookAllowPrivateNetworks).toBe(true);
      expect(config.outboxDispatch).toBe(true);
      expect(emailsEnabled(config)).toBe(false);
      expect(config.holdReasonCustomerTexts).toEqual(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS);
      const production = loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://localhost/x',
        JWT_SECRET: 'x'.repeat(32),
        AUDIT_SIGNING_KEY: AUDIT_KEY,
      });
      expect(production.webhookAllowPrivateNetworks).toBe(false);
      expect(
        loadConfig({
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://localhost/x',
          JWT_SECRET: 'x'.repeat(32),
          AUDIT_SIGNING_KEY: AUDIT_KEY,
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        }).webhookAllowPrivateNetworks,
      ).toBe(true);
    });

    it('parse durations in ms, s, m, h and d, and nothing else', () => {
      expect(parseDurations('100ms,2s,3m,1h,1d')).toEqual([
        100, 2000, 180_000, 3_600_000, 86_400_000,
      ]);
      expect(parseDurations('5s, 10s')).toEqual([5000, 10_000]);
      for (const bad of ['', '5', '5x', '0s', '-5s', '1.5s', '5s,,5s']) {
        expect(parseDurations(bad)).toBeUndefined();
      }
      expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5 seconds' })).toThrow(
        /WEBHOOK_RETRY_SCHEDULE must be/,
      );
      expect(() => loadConfig({ EMAIL_RETRY_SCHEDULE: '0s' })).toThrow(/EMAIL_RETRY_SCHEDULE/);
    });

    it('send emails only with both SMTP_URL and EMAIL_FROM, and refuse half a configuration', () => {
      const config = loadConfig({
        SMTP_URL: 'smtp://127.0.0.1:2525',
        EMAIL_FROM: 'Billing <b@x.test>',
      });
      expect(emailsEnabled(config)).toBe(true);
      expect(() => loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525' })).toThrow(
        /EMAIL_FROM is required/,
      );
      expect(() => loadConfig({ SMTP_URL: 'http://mail', EMAIL_FROM: 'b@x.test' })).toThrow(
        /SMTP_URL must be an smtp/,
      );
      expect(() => loadConfig({ WEBHOOK_SECRETS_KEY: 'short' })).toThrow(
        /WEBHOOK_SECRETS_KEY must be at least 32/,
      );
    });

    it('merge customer texts over the defaults, for configured codes only', () => {
      const config = loadConfig({
        HOLD_REASON_CUSTOMER_TEXTS: '{"dispute": "A payment is being looked into."}',
      });
      expect(config.holdReasonCustomerTexts.dispute).toBe('A payment is being looked into.');
      expect(config.holdReasonCustomerTexts.other).toBe(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.other);
      expect(() => loadConfig({ HOLD_REASON_CUSTOMER_TEXTS: '{"fraud": "x"}' })).toThrow(
        /names codes that HOLD_REASON_CODES does not have: fraud/,
      );
      for (const bad of ['not json', '["x"]', '{"dispute": ""}', '{"dispute": 3}']) {
        expect(() => loadConfig({ HOLD_REASON_CUSTOMER_TEXTS: bad })).toThrow(
          /HOLD_REASON_CUSTOMER_TEXTS must be a JSON object/,
        );
      }
    });
  });

  describe('dunning', () => {
    it('defaults to 14-day terms, warnings at 7 and 21 days, a hold at 30, an hourly run', () => {
      const config = loadConfig({});
      expect(config.invoiceTermsDays).toBe(14);
      expect(config.dunningWarnDays).toEqual([7, 21]);
      expect(config.dunningHoldDays).toBe(30);
      expect(config.dunningCron).toBe('0 * * * *');
    });

    it('takes warning days in any order, once each, or none with off', () => {
      expect(loadConfig({ DUNNING_WARN_DAYS: '21, 3,7,3' }).dunningWarnDays).toEqual([3, 7, 21]);
      expect(loadConfig({ DUNNING_WARN_DAYS: 'off' }).dunningWarnDays).toEqual([]);
      for (const bad of ['0', '7,x', '-1', '7.5', '7,,21']) {
        expect(() => loadConfig({ DUNNING_WARN_DAYS: bad })).toThrow(/DUNNING_WARN_DAYS must be/);
      }
    });

    it('checks DUNNING_CRON like BILLING_RUN_CRON, and turns the schedule off with off', () => {
      expect(loadConfig({ DUNNING_CRON: 'off' }).dunningCron).toBeUndefined();
      expect(loadConfig({ DUNNING_CRON: '*/5 * * * *' }).dunningCron).toBe('*/5 * * * *');
      expect(() => loadConfig({ DUNNING_CRON: '0 0 30 2 *' })).toThrow(/DUNNING_CRON never fires/);
      expect(() => loadConfig({ DUNNING_CRON: 'hourly' })).toThrow(
        /DUNNING_CRON is not a valid cron expression/,
      );
    });

    it('refuses hold days and terms out of range', () => {
      expect(() => loadConfig({ DUNNING_HOLD_DAYS: '0' })).toThrow(/DUNNING_HOLD_DAYS/);
      expect(() => loadConfig({ INVOICE_TERMS_DAYS: '-3' })).toThrow(/INVOICE_TERMS_DAYS/);
      expect(loadConfig({ INVOICE_TERMS_DAYS: '0' }).invoiceTermsDays).toBe(0);
    });
  });

  describe('the audit trail', () => {
    const PRODUCTION = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://localhost/x',
      JWT_SECRET: 'x'.repeat(32),
    };

    it('signs hourly, keeps 400 days, and makes a key for the process outside production', () => {
      expect(loadConfig({})).toMatchObject({
        auditSigningKey: undefined,
        auditCheckpointCron: '0 * * * *',
        auditRetentionDays: 400,
      });
      expect(loadConfig({ AUDIT_CHECKPOINT_CRON: 'off' }).auditCheckpointCron).toBeUndefined();
      expect(loadConfig({ AUDIT_RETENTION_DAYS: '0' }).auditRetentionDays).toBe(0);
    });

    it('requires AUDIT_SIGNING_KEY in production, and at least 365 days of retention there', () => {
      expect(() => loadConfig(PRODUCTION)).toThrow(/AUDIT_SIGNING_KEY is required/);
      expect(loadConfig({ ...PRODUCTION, AUDIT_SIGNING_KEY: AUDIT_KEY }).auditSigningKey).toBe(
        AUDIT_KEY,
      );
      expect(() =>
        loadConfig({ ...PRODUCTION, AUDIT_SIGNING_KEY: AUDIT_KEY, AUDIT_RETENTION_DAYS: '30' }),
      ).toThrow(/AUDIT_RETENTION_DAYS must be an integer from 365/);
    });

    it('refuses a key that is neither a PEM nor a 32-byte seed, and a bad schedule', () => {
      for (const bad of ['short', Buffer.alloc(16).toString('base64'), '-----BEGIN nonsense']) {
        expect(() => loadConfig({ AUDIT_SIGNING_KEY: bad })).toThrow(/AUDIT_SIGNING_KEY/);
      }
      expect(() => loadConfig({ AUDIT_CHECKPOINT_CRON: 'hourly' })).toThrow(
        /AUDIT_CHECKPOINT_CRON is not a valid cron expression/,
      );
    });
  });
});
