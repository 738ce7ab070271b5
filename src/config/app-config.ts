import { randomBytes } from 'node:crypto';
import { CronTime } from 'cron';
import { parseSigningKey } from '../common/signing-key';
import { passwordWeakness } from '../common/password-policy';

/** The first admin, created when no staff user exists, unless ADMIN_EMAIL says otherwise. */
export const DEFAULT_ADMIN_EMAIL = 'admin@example.com';
export const DEFAULT_ADMIN_NAME = 'Administrator';

export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];
export type LogFormat = 'json' | 'pretty';
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

/** The whole configuration of the service, read once from the environment and validated. */
export interface AppConfig {
  nodeEnv: NodeEnv;
  production: boolean;
  host: string;
  port: number;
  /** PostgreSQL URL; undefined means "start the embedded database". */
  databaseUrl: string | undefined;
  /**
   * PostgreSQL URL of the schema's owner, for migrations (and the runtime role's grants); undefined
   * means DATABASE_URL migrates too.
   */
  migrationDatabaseUrl: string | undefined;
  /** Where the embedded database keeps its files. */
  dataDir: string;
  databasePoolSize: number;
  /** Connecting, and waiting for a free pooled connection. */
  databaseConnectTimeoutMs: number;
  /** PostgreSQL's statement_timeout; the client gives up a moment after it (see the pool). */
  databaseStatementTimeoutMs: number;
  /** PostgreSQL's lock_timeout: how long a statement waits for a row or table lock. */
  databaseLockTimeoutMs: number;
  runMigrations: boolean;
  jwtSecret: string;
  /** True when JWT_SECRET was not set and a random one was made for this process. */
  jwtSecretGenerated: boolean;
  jwtTtlSeconds: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: LogLevel;
  /** JSON lines, or coloured text for a person at a terminal. */
  logFormat: LogFormat;
  /** Bearer token of GET /metrics; undefined: the route answers 404. */
  metricsToken: string | undefined;
  /** On SIGTERM, how long readiness answers 503 before the server stops accepting. */
  shutdownDrainMs: number;
  loginMaxFailures: number;
  loginWindowSeconds: number;
  trustProxy: boolean;
  billingPauseOnDisable: boolean;
  billingRunCron: string | undefined;
  /** Keep computed limits and API keys in memory (invalidated by LISTEN/NOTIFY). */
  limitsCache: boolean;
  /** How often the LISTEN connection is asked a heartbeat query. */
  changeFeedHeartbeatMs: number;
  /** Caches are bypassed once no heartbeat sent within this many ms has been answered. */
  changeFeedStaleMs: number;
  /** Longest gap between two heartbeats of GET /access/stream while the change feed is live. */
  streamHeartbeatMs: number;
  /** The reason codes a hold may carry. */
  holdReasonCodes: string[];
  /** Days from placing a hold to its default review date. */
  holdReviewDays: number;
  /** How often each instance looks for holds starting or ending. */
  holdSchedulerIntervalMs: number;
  /** Delays between a failed webhook attempt and the next, in ms; its length is the retries. */
  webhookRetryScheduleMs: number[];
  /** How long a receiver has to answer one attempt. */
  webhookTimeoutMs: number;
  /** Plain http and loopback or private addresses allowed for endpoints (default: not in production). */
  webhookAllowPrivateNetworks: boolean;
  /** Key that encrypts webhook secrets at rest; undefined: stored as the standard gives them. */
  webhookSecretsKey: string | undefined;
  /** Whether this instance delivers the outbox (webhooks and emails). */
  outboxDispatch: boolean;
  /** How often each instance looks for due deliveries made by other instances. */
  outboxPollIntervalMs: number;
  /** SMTP server of the customer emails (`smtp://` or `smtps://`); undefined: no emails. */
  smtpUrl: string | undefined;
  /** Sender of the customer emails. */
  emailFrom: string | undefined;
  /** Delays between a failed email attempt and the next, in ms. */
  emailRetryScheduleMs: number[];
  /** What a customer is told for each hold reason code (never the internal reason). */
  holdReasonCustomerTexts: Record<string, string>;
  /** Events (with their delivery logs and emails) older than this many days are removed. */
  eventRetentionDays: number;
  /** Days from issuing an invoice to its due date. */
  invoiceTermsDays: number;
  /** Days past due at which an open invoice gets a warning (`invoice.overdue`), ascending. */
  dunningWarnDays: number[];
  /** Days past due at which an open invoice holds its customer. */
  dunningHoldDays: number;
  /** Cron expression (UTC) of the scheduled dunning run; undefined: off. */
  dunningCron: string | undefined;
  /**
   * The Ed25519 key signing the audit chain's checkpoints, as configured (PKCS#8 PEM or a base64
   * seed); undefined outside production means a key made for this process only.
   */
  auditSigningKey: string | undefined;
  /** When the audit chain's head is signed (cron, UTC); undefined: only on demand. */
  auditCheckpointCron: string | undefined;
  /** Entries older than this many days may be archived (npm run audit:archive); never before. */
  auditRetentionDays: number;
}

/** Emails are sent when both are configured. */
export function emailsEnabled(config: Pick<AppConfig, 'smtpUrl' | 'emailFrom'>): boolean {
  return config.smtpUrl !== undefined && config.emailFrom !== undefined;
}

/** Hourly, on the hour (UTC). */
export const DEFAULT_AUDIT_CHECKPOINT_CRON = '0 * * * *';

export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';
export const DEFAULT_EMAIL_RETRY_SCHEDULE = '30s,5m,30m,2h,6h';

/** What the customer reads for each default reason code; a configured code without one gets `other`'s. */
export const DEFAULT_HOLD_REASON_CUSTOMER_TEXTS: Record<string, string> = {
  non_payment: 'Your account has an unpaid balance.',
  dispute: 'A payment on your account is disputed.',
  customer_request: 'You asked us to suspend your account.',
  compliance: 'Your account is under a compliance review.',
  security: 'We noticed activity on your account that needs a security review.',
  other: 'Your account needs attention from our team.',
};

export const DEFAULT_HOLD_REASON_CODES = [
  'non_payment',
  'dispute',
  'customer_request',
  'compliance',
  'security',
  'other',
];

/** One entry per environment variable: its documentation lives next to its parser. */
interface VariableSpec {
  name: string;
  description: string;
  sensitive?: boolean;
}

export const CONFIG_VARIABLES: readonly VariableSpec[] = [
  {
    name: 'NODE_ENV',
    description:
      '`development` (default), `test` or `production`; `production` requires `DATABASE_URL`, `JWT_SECRET` and, on a database with no staff user, `ADMIN_EMAIL` / `ADMIN_PASSWORD`',
  },
  { name: 'HOST', description: 'Address to listen on (default `0.0.0.0`)' },
  { name: 'PORT', description: 'HTTP port (default `3000`)' },
  {
    name: 'DATABASE_URL',
    description: 'PostgreSQL URL; when unset an embedded PostgreSQL keeps its data in `DATA_DIR`',
    sensitive: true,
  },
  {
    name: 'MIGRATION_DATABASE_URL',
    description:
      'PostgreSQL URL of the owner of the schema: runs migrations; `DATABASE_URL` may then be a DML-only role',
    sensitive: true,
  },
  { name: 'DATA_DIR', description: 'Directory of the embedded database (default `./.data`)' },
  { name: 'DATABASE_POOL_SIZE', description: 'Connections in the pool (default `10`)' },
  {
    name: 'DATABASE_CONNECT_TIMEOUT_MS',
    description:
      'Longest wait to open a database connection or to get a free one from the pool (default `5000`)',
  },
  {
    name: 'DATABASE_STATEMENT_TIMEOUT_MS',
    description:
      'PostgreSQL `statement_timeout` and `idle_in_transaction_session_timeout`; the service stops waiting for an answer 1 s after it (default `15000`)',
  },
  {
    name: 'DATABASE_LOCK_TIMEOUT_MS',
    description: 'PostgreSQL `lock_timeout`: longest wait for a locked row (default `5000`)',
  },
  { name: 'RUN_MIGRATIONS', description: 'Run pending migrations at start (default `true`)' },
  {
    name: 'JWT_SECRET',
    description: 'Secret that signs access tokens; required (32+ characters) in production',
    sensitive: true,
  },
  { name: 'JWT_TTL', description: 'Access token lifetime in seconds (default `3600`)' },
  {
    name: 'ADMIN_EMAIL',
    description: 'Email of the first admin, created when no staff user exists',
  },
  {
    name: 'ADMIN_PASSWORD',
    description:
      'Password of the first admin (must pass the password policy); generated and printed once when unset, except in production, which refuses to start without it',
    sensitive: true,
  },
  { name: 'LOG_LEVEL', description: '`error`, `warn`, `log` (default), `debug` or `verbose`' },
  {
    name: 'LOG_FORMAT',
    description:
      '`json` (one JSON object a line) or `pretty` (coloured text); default `pretty` when `NODE_ENV=development` and the output is a terminal, `json` otherwise',
  },
  {
    name: 'METRICS_TOKEN',
    description: 'Bearer token of `GET /metrics` (16+ characters); unset: `/metrics` answers 404',
    sensitive: true,
  },
  {
    name: 'SHUTDOWN_DRAIN_MS',
    description:
      'On SIGTERM, how long `/health/ready` answers 503 before the server stops accepting connections (default `5000`)',
  },
  {
    name: 'LOGIN_MAX_FAILURES',
    description:
      'Failed logins per (email, IP) before 429 (default `5`); 4x per email from any IP and per IP',
  },
  { name: 'LOGIN_WINDOW_SECONDS', description: 'Window of that count in seconds (default `900`)' },
  { name: 'TRUST_PROXY', description: 'Take the client IP from X-Forwarded-For (default `false`)' },
  {
    name: 'BILLING_PAUSE_ON_DISABLE',
    description: 'Whether disabling a customer pauses its billing (default `true`)',
  },
  {
    name: 'BILLING_RUN_CRON',
    description: 'Cron expression (UTC) of the billing run, checked at start; off when unset',
  },
  {
    name: 'LIMITS_CACHE',
    description:
      'Keep every customer’s limits, API keys and staff members in memory (default `true`); ' +
      '`false` reads the database',
  },
  {
    name: 'CHANGE_FEED_HEARTBEAT_MS',
    description: 'Heartbeat period of the LISTEN connection in ms (default `500`)',
  },
  {
    name: 'CHANGE_FEED_STALE_MS',
    description:
      'Caches are bypassed once the LISTEN connection has not answered a heartbeat sent within ' +
      'this many ms (default `2000`): the longest a change from another instance goes unheard',
  },
  {
    name: 'STREAM_HEARTBEAT_MS',
    description:
      'Heartbeat period of `GET /access/stream` in ms (default `1000`), sent only while the ' +
      'change feed is live: what tells a client library its cache is current',
  },
  {
    name: 'HOLD_REASON_CODES',
    description:
      'Comma-separated reason codes a hold may carry (default `non_payment,dispute,customer_request,compliance,security,other`); must include `other`',
  },
  {
    name: 'HOLD_REVIEW_DAYS',
    description: 'Days from placing a hold to its default review date (default `30`)',
  },
  {
    name: 'HOLD_SCHEDULER_INTERVAL_MS',
    description:
      'How often each instance looks for holds that start or end (default `200`); status answers do not wait for it',
  },
  {
    name: 'WEBHOOK_RETRY_SCHEDULE',
    description:
      'Delays between failed webhook attempts, comma-separated durations (`ms`, `s`, `m`, `h`, `d`; default `5s,5m,30m,2h,5h,10h,10h`); after the last the delivery is `failed`',
  },
  {
    name: 'WEBHOOK_TIMEOUT_MS',
    description: 'How long a webhook receiver has to answer an attempt (default `10000`)',
  },
  {
    name: 'WEBHOOK_ALLOW_PRIVATE_NETWORKS',
    description:
      'Allow plain `http` endpoints and endpoints on loopback or private addresses (default `true`, except `false` in production)',
  },
  {
    name: 'WEBHOOK_SECRETS_KEY',
    description:
      'Key (32+ characters) that encrypts webhook signing secrets in the database (AES-256-GCM); unset: they are stored as the standard gives them',
    sensitive: true,
  },
  {
    name: 'OUTBOX_DISPATCH',
    description:
      'Whether this instance delivers webhooks and emails (default `true`); every instance can, and they share the work',
  },
  {
    name: 'OUTBOX_POLL_INTERVAL_MS',
    description:
      'How often an instance looks for deliveries due, such as retries and events of other instances (default `250`); its own events go out at once',
  },
  {
    name: 'SMTP_URL',
    description:
      'SMTP server of the customer emails, `smtp://user:pass@host:587` or `smtps://...`; unset: no emails',
    sensitive: true,
  },
  {
    name: 'EMAIL_FROM',
    description: 'Sender of the customer emails, e.g. `Acme <billing@acme.test>`',
  },
  {
    name: 'EMAIL_RETRY_SCHEDULE',
    description: 'Delays between failed email attempts (default `30s,5m,30m,2h,6h`)',
  },
  {
    name: 'EVENT_RETENTION_DAYS',
    description:
      'Days an event is kept, with its delivery log and emails (default `90`, at least `30`)',
  },
  {
    name: 'AUDIT_SIGNING_KEY',
    description:
      "Ed25519 key signing the audit chain's checkpoints: a PKCS#8 PEM (`openssl genpkey -algorithm ed25519`) or the base64 of a 32-byte seed (`openssl rand -base64 32`); required in production; unset elsewhere: a key made for the process, with a warning",
    sensitive: true,
  },
  {
    name: 'AUDIT_CHECKPOINT_CRON',
    description:
      'Cron expression (UTC) of the signed checkpoints of the audit chain (default `0 * * * *`, hourly); `off`: only on demand',
  },
  {
    name: 'AUDIT_RETENTION_DAYS',
    description:
      'Days an audit entry is kept before `npm run audit:archive` may export and remove it (default `400`; at least `365` in production); the service itself never removes one',
  },
  {
    name: 'HOLD_REASON_CUSTOMER_TEXTS',
    description:
      'JSON object from reason code to the sentence a customer email gives for it, merged over the defaults (a code without one uses `other`’s)',
  },
  {
    name: 'INVOICE_TERMS_DAYS',
    description: 'Days from issuing an invoice to its due date (default `14`)',
  },
  {
    name: 'DUNNING_WARN_DAYS',
    description:
      'Comma-separated days past due at which an open invoice gets a warning, an `invoice.overdue` event and email (default `7,21`); `off`: none',
  },
  {
    name: 'DUNNING_HOLD_DAYS',
    description:
      'Days past due at which an open invoice holds its customer with an `overdue` hold (default `30`)',
  },
  {
    name: 'DUNNING_CRON',
    description:
      'Cron expression (UTC) of the scheduled dunning run, on one instance at a time (default `0 * * * *`, hourly); `off`: no schedule',
  },
];

export const DEFAULT_DUNNING_CRON = '0 * * * *';

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `5s,5m,2h` in ms; undefined when any part is not a positive duration. */
export function parseDurations(raw: string): number[] | undefined {
  const parts = raw.split(',').map((part) => part.trim());
  const durations: number[] = [];
  for (const part of parts) {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(part);
    if (!match || Number(match[1]) === 0) return undefined;
    durations.push(Number(match[1]) * DURATION_UNITS_MS[match[2]]);
  }
  return durations;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the configuration. Every problem is collected and reported at once, each
 * naming its variable, so a bad deployment fails at start with one readable message.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return parsed;
  };

  const bool = (name: string, fallback: boolean): boolean => {
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };

  // A typo such as `prod` must not silently mean development.
  const nodeEnv = (value('NODE_ENV') ?? 'development') as NodeEnv;
  if (!NODE_ENVS.includes(nodeEnv)) {
    problems.push(`NODE_ENV must be one of ${NODE_ENVS.join(', ')} (got "${nodeEnv}")`);
  }
  const production = nodeEnv === 'production';

  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const migrationDatabaseUrl = value('MIGRATION_DATABASE_URL');
  if (migrationDatabaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(migrationDatabaseUrl)) {
    problems.push('MIGRATION_DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  // The embedded engine has a single user: a second URL there would be a mistake of deployment.
  if (migrationDatabaseUrl !== undefined && databaseUrl === undefined) {
    problems.push('MIGRATION_DATABASE_URL needs DATABASE_URL (the role the service runs as)');
  }
  if (databaseUrl === undefined && production) {
    problems.push(
      'DATABASE_URL is required when NODE_ENV=production: the embedded database is for trying ' +
        'the service out (one instance only)',
    );
  }

  let jwtSecret = value('JWT_SECRET');
  let jwtSecretGenerated = false;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    problems.push('JWT_SECRET must be at least 32 characters long');
  }
  if (jwtSecret === undefined) {
    if (production) {
      problems.push('JWT_SECRET is required when NODE_ENV=production (at least 32 characters)');
    }
    jwtSecret = randomBytes(32).toString('base64url');
    jwtSecretGenerated = true;
  }

  const adminEmail = value('ADMIN_EMAIL')?.toLowerCase();
  if (adminEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail)) {
    problems.push(`ADMIN_EMAIL must be an email address (got "${adminEmail}")`);
  }
  const adminPassword = value('ADMIN_PASSWORD');
  if (adminPassword !== undefined && adminPassword.length < 12) {
    problems.push('ADMIN_PASSWORD must be at least 12 characters long');
  } else if (adminPassword !== undefined) {
    const weakness = passwordWeakness(adminPassword, {
      email: adminEmail ?? DEFAULT_ADMIN_EMAIL,
      name: DEFAULT_ADMIN_NAME,
    });
    if (weakness !== null) problems.push(`ADMIN_PASSWORD is too weak: it ${weakness}`);
  }
  if (production && adminPassword !== undefined && adminEmail === undefined) {
    problems.push('ADMIN_EMAIL is required when ADMIN_PASSWORD is set');
  }

  const logLevel = (value('LOG_LEVEL') ?? 'log') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const logFormatRaw = value('LOG_FORMAT');
  if (logFormatRaw !== undefined && !LOG_FORMATS.includes(logFormatRaw as LogFormat)) {
    problems.push(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got "${logFormatRaw}")`);
  }
  const logFormat: LogFormat =
    logFormatRaw === 'pretty' || logFormatRaw === 'json'
      ? logFormatRaw
      : nodeEnv === 'development' && process.stdout.isTTY
        ? 'pretty'
        : 'json';
  const metricsToken = value('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) {
    problems.push('METRICS_TOKEN must be at least 16 characters long');
  }

  const billingRunCron = value('BILLING_RUN_CRON');
  if (billingRunCron !== undefined) {
    const problem = cronProblem(billingRunCron);
    if (problem) problems.push(`BILLING_RUN_CRON ${problem} (got "${billingRunCron}")`);
  }

  const dunningCronRaw = value('DUNNING_CRON') ?? DEFAULT_DUNNING_CRON;
  const dunningCron = dunningCronRaw.toLowerCase() === 'off' ? undefined : dunningCronRaw;
  if (dunningCron !== undefined) {
    const problem = cronProblem(dunningCron);
    if (problem)
      problems.push(`DUNNING_CRON ${problem} (got "${dunningCron}"); \`off\` turns it off`);
  }
  const dunningWarnDays = warnDays(value('DUNNING_WARN_DAYS') ?? '7,21', problems);
  const auditSigningKey = value('AUDIT_SIGNING_KEY');
  if (auditSigningKey !== undefined) {
    try {
      parseSigningKey(auditSigningKey);
    } catch (error) {
      problems.push(`AUDIT_SIGNING_KEY ${(error as Error).message}`);
    }
  } else if (production) {
    problems.push(
      "AUDIT_SIGNING_KEY is required when NODE_ENV=production: the audit chain's checkpoints " +
        'must be signed by a key that outlives the process (`openssl rand -base64 32`)',
    );
  }
  const checkpointCronRaw = value('AUDIT_CHECKPOINT_CRON') ?? DEFAULT_AUDIT_CHECKPOINT_CRON;
  const auditCheckpointCron =
    checkpointCronRaw.toLowerCase() === 'off' ? undefined : checkpointCronRaw;
  if (auditCheckpointCron !== undefined) {
    const problem = cronProblem(auditCheckpointCron);
    if (problem) problems.push(`AUDIT_CHECKPOINT_CRON ${problem} (got "${auditCheckpointCron}")`);
  }
  // Twelve months at least where it counts (PCI DSS 10.5.1); shorter elsewhere, to try it out.
  const auditRetentionDays = int('AUDIT_RETENTION_DAYS', 400, production ? 365 : 0, 36_500);

  const changeFeedHeartbeatMs = int('CHANGE_FEED_HEARTBEAT_MS', 500, 50, 60_000);
  const changeFeedStaleMs = int('CHANGE_FEED_STALE_MS', 2000, 100, 600_000);
  if (changeFeedHeartbeatMs >= changeFeedStaleMs) {
    problems.push(
      `CHANGE_FEED_HEARTBEAT_MS (${changeFeedHeartbeatMs}) must be less than ` +
        `CHANGE_FEED_STALE_MS (${changeFeedStaleMs}), or every heartbeat would come too late`,
    );
  }

  const holdReasonCodes = (value('HOLD_REASON_CODES') ?? DEFAULT_HOLD_REASON_CODES.join(','))
    .split(',')
    .map((code) => code.trim())
    .filter((code) => code !== '');
  const badCodes = holdReasonCodes.filter((code) => !/^[a-z][a-z0-9_]{0,39}$/.test(code));
  if (badCodes.length > 0) {
    problems.push(
      `HOLD_REASON_CODES must be lower-case codes (a-z, 0-9, _) separated by commas (got "${badCodes.join('", "')}")`,
    );
  }
  // A disable without a reason code is recorded as `other`.
  if (!holdReasonCodes.includes('other')) {
    problems.push('HOLD_REASON_CODES must include `other` (the code of a disable that names none)');
  }

  const schedule = (name: string, fallback: string): number[] => {
    const raw = value(name) ?? fallback;
    const parsed = parseDurations(raw);
    if (parsed === undefined || parsed.length > 20) {
      problems.push(
        `${name} must be up to 20 comma-separated durations such as 5s,5m,2h (got "${raw}")`,
      );
      return parseDurations(fallback)!;
    }
    return parsed;
  };

  const webhookSecretsKey = value('WEBHOOK_SECRETS_KEY');
  if (webhookSecretsKey !== undefined && webhookSecretsKey.length < 32) {
    problems.push('WEBHOOK_SECRETS_KEY must be at least 32 characters long');
  }
  const smtpUrl = value('SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]/.test(smtpUrl)) {
    problems.push('SMTP_URL must be an smtp:// or smtps:// URL');
  }
  const emailFrom = value('EMAIL_FROM');
  if (smtpUrl !== undefined && emailFrom === undefined) {
    problems.push('EMAIL_FROM is required when SMTP_URL is set (the sender of customer emails)');
  }
  const holdReasonCustomerTexts = { ...DEFAULT_HOLD_REASON_CUSTOMER_TEXTS };
  const textsRaw = value('HOLD_REASON_CUSTOMER_TEXTS');
  if (textsRaw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(textsRaw);
    } catch {
      parsed = undefined;
    }
    const entries =
      parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
        ? Object.entries(parsed)
        : undefined;
    if (
      entries === undefined ||
      entries.some(([, text]) => typeof text !== 'string' || text.trim() === '')
    ) {
      problems.push(
        'HOLD_REASON_CUSTOMER_TEXTS must be a JSON object from reason code to a non-empty sentence',
      );
    } else {
      const unknown = entries.filter(([code]) => !holdReasonCodes.includes(code)).map(([c]) => c);
      if (unknown.length > 0) {
        problems.push(
          `HOLD_REASON_CUSTOMER_TEXTS names codes that HOLD_REASON_CODES does not have: ${unknown.join(', ')}`,
        );
      }
      for (const [code, text] of entries) holdReasonCustomerTexts[code] = (text as string).trim();
    }
  }

  const config: AppConfig = {
    nodeEnv,
    production,
    host: value('HOST') ?? '0.0.0.0',
    port: int('PORT', 3000, 0, 65535),
    databaseUrl,
    migrationDatabaseUrl,
    dataDir: value('DATA_DIR') ?? './.data',
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 200),
    databaseConnectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
    databaseLockTimeoutMs: int('DATABASE_LOCK_TIMEOUT_MS', 5000, 100, 3_600_000),
    runMigrations: bool('RUN_MIGRATIONS', true),
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: int('JWT_TTL', 3600, 60, 7 * 24 * 3600),
    adminEmail,
    adminPassword,
    logLevel,
    logFormat,
    metricsToken,
    shutdownDrainMs: int('SHUTDOWN_DRAIN_MS', 5000, 0, 600_000),
    loginMaxFailures: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginWindowSeconds: int('LOGIN_WINDOW_SECONDS', 900, 1, 86400),
    trustProxy: bool('TRUST_PROXY', false),
    billingPauseOnDisable: bool('BILLING_PAUSE_ON_DISABLE', true),
    billingRunCron,
    limitsCache: bool('LIMITS_CACHE', true),
    changeFeedHeartbeatMs,
    changeFeedStaleMs,
    streamHeartbeatMs: int('STREAM_HEARTBEAT_MS', 1000, 50, 60_000),
    holdReasonCodes: [...new Set(holdReasonCodes)],
    holdReviewDays: int('HOLD_REVIEW_DAYS', 30, 1, 3650),
    holdSchedulerIntervalMs: int('HOLD_SCHEDULER_INTERVAL_MS', 200, 10, 60_000),
    webhookRetryScheduleMs: schedule('WEBHOOK_RETRY_SCHEDULE', DEFAULT_WEBHOOK_RETRY_SCHEDULE),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    webhookAllowPrivateNetworks: bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS', !production),
    webhookSecretsKey,
    outboxDispatch: bool('OUTBOX_DISPATCH', true),
    outboxPollIntervalMs: int('OUTBOX_POLL_INTERVAL_MS', 250, 10, 60_000),
    smtpUrl,
    emailFrom,
    emailRetryScheduleMs: schedule('EMAIL_RETRY_SCHEDULE', DEFAULT_EMAIL_RETRY_SCHEDULE),
    holdReasonCustomerTexts,
    eventRetentionDays: int('EVENT_RETENTION_DAYS', 90, 30, 36_500),
    invoiceTermsDays: int('INVOICE_TERMS_DAYS', 14, 0, 3650),
    dunningWarnDays,
    dunningHoldDays: int('DUNNING_HOLD_DAYS', 30, 1, 3650),
    dunningCron,
    auditSigningKey,
    auditCheckpointCron,
    auditRetentionDays,
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `7,21` as ascending distinct days; `off` as none. */
function warnDays(raw: string, problems: string[]): number[] {
  if (raw.toLowerCase() === 'off') return [];
  const parts = raw.split(',').map((part) => part.trim());
  const days = parts.map(Number);
  if (parts.some((part) => !/^\d+$/.test(part)) || days.some((d) => d < 1 || d > 3650)) {
    problems.push(
      `DUNNING_WARN_DAYS must be comma-separated days from 1 to 3650, or off (got "${raw}")`,
    );
    return [7, 21];
  }
  return [...new Set(days)].sort((a, b) => a - b);
}

/**
 * What is wrong with a cron expression, parsed as the billing scheduler's CronJob will parse it
 * (so that a bad one fails the start with its variable's name, not with a stack trace later);
 * undefined when it is fine.
 */
function cronProblem(expression: string): string | undefined {
  let time: CronTime;
  try {
    time = new CronTime(expression, 'UTC');
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message.split('\n')[0]}`;
  }
  try {
    // Parses, yet may name a day that never comes (February 30th): the job would throw at start.
    time.sendAt();
  } catch {
    return 'never fires';
  }
  return undefined;
}

/** Nest log levels from the configured threshold. */
export function logLevelsFrom(level: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}
