import { randomBytes } from 'node:crypto';
import { passwordWeakness } from '../auth/password-policy';

/** The first admin, created when no staff user exists, unless ADMIN_EMAIL says otherwise. */
export const DEFAULT_ADMIN_EMAIL = 'admin@example.com';
export const DEFAULT_ADMIN_NAME = 'Administrator';

export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';
const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/** The whole configuration of the service, read once from the environment and validated. */
export interface AppConfig {
  nodeEnv: string;
  production: boolean;
  host: string;
  port: number;
  /** PostgreSQL URL; undefined means "start the embedded database". */
  databaseUrl: string | undefined;
  /** Where the embedded database keeps its files. */
  dataDir: string;
  databasePoolSize: number;
  runMigrations: boolean;
  jwtSecret: string;
  /** True when JWT_SECRET was not set and a random one was made for this process. */
  jwtSecretGenerated: boolean;
  jwtTtlSeconds: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: LogLevel;
  loginMaxFailures: number;
  loginWindowSeconds: number;
  trustProxy: boolean;
  billingPauseOnDisable: boolean;
  billingRunCron: string | undefined;
  /** Keep computed limits and API keys in memory (invalidated by LISTEN/NOTIFY). */
  limitsCache: boolean;
}

/** One entry per environment variable: its documentation lives next to its parser. */
interface VariableSpec {
  name: string;
  description: string;
  sensitive?: boolean;
}

export const CONFIG_VARIABLES: readonly VariableSpec[] = [
  { name: 'NODE_ENV', description: '`production` turns on the production checks' },
  { name: 'HOST', description: 'Address to listen on (default `0.0.0.0`)' },
  { name: 'PORT', description: 'HTTP port (default `3000`)' },
  {
    name: 'DATABASE_URL',
    description: 'PostgreSQL URL; when unset an embedded PostgreSQL keeps its data in `DATA_DIR`',
    sensitive: true,
  },
  { name: 'DATA_DIR', description: 'Directory of the embedded database (default `./.data`)' },
  { name: 'DATABASE_POOL_SIZE', description: 'Connections in the pool (default `10`)' },
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
      'Password of the first admin (must pass the password policy); generated and printed once when unset',
    sensitive: true,
  },
  { name: 'LOG_LEVEL', description: '`error`, `warn`, `log` (default), `debug` or `verbose`' },
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
  { name: 'BILLING_RUN_CRON', description: 'Cron expression of the billing run; off when unset' },
  {
    name: 'LIMITS_CACHE',
    description: 'Cache limits and API keys in memory (default `true`); `false` reads the database',
  },
];

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

  const nodeEnv = value('NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';

  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
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

  const billingRunCron = value('BILLING_RUN_CRON');
  if (billingRunCron !== undefined && !/^(\S+\s+){4,5}\S+$/.test(billingRunCron)) {
    problems.push(
      `BILLING_RUN_CRON must be a cron expression of 5 or 6 fields (got "${billingRunCron}")`,
    );
  }

  const config: AppConfig = {
    nodeEnv,
    production,
    host: value('HOST') ?? '0.0.0.0',
    port: int('PORT', 3000, 0, 65535),
    databaseUrl,
    dataDir: value('DATA_DIR') ?? './.data',
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 200),
    runMigrations: bool('RUN_MIGRATIONS', true),
    jwtSecret,
    jwtSecretGenerated,
    jwtTtlSeconds: int('JWT_TTL', 3600, 60, 7 * 24 * 3600),
    adminEmail,
    adminPassword,
    logLevel,
    loginMaxFailures: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginWindowSeconds: int('LOGIN_WINDOW_SECONDS', 900, 1, 86400),
    trustProxy: bool('TRUST_PROXY', false),
    billingPauseOnDisable: bool('BILLING_PAUSE_ON_DISABLE', true),
    billingRunCron,
    limitsCache: bool('LIMITS_CACHE', true),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Nest log levels from the configured threshold. */
export function logLevelsFrom(level: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}
