import type { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import type { AppConfig, LogLevel } from '../config/app-config';

/** LOG_LEVEL in Nest's words, as pino names it. */
const PINO_LEVELS: Record<LogLevel, pino.Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Nest's start-up chatter: one line per module and ~70 per route, useful only when debugging. */
const DEBUG_CONTEXTS = new Set(['RoutesResolver', 'RouterExplorer', 'InstanceLoader']);

/**
 * The service's one logger: JSON lines (pino) unless LOG_FORMAT is `pretty`. `destination` is
 * where the lines go (standard output unless given: the tests capture them); `silent` writes none.
 */
export function createRootLogger(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'>,
  options: { destination?: DestinationStream; silent?: boolean } = {},
): Logger {
  const destination =
    options.destination ??
    (config.logFormat === 'pretty'
      ? prettyStream({
          colorize: true,
          sync: true,
          singleLine: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service,context',
          messageFormat: '{if context}[{context}] {end}{msg}',
        })
      : bufferedStandardOutput());
  return pino(
    {
      level: options.silent ? 'silent' : PINO_LEVELS[config.logLevel],
      base: { service: 'customer-access' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Never a secret, whatever a caller passes by mistake.
      redact: { paths: ['password', 'token', 'authorization', 'secret'], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** How long a line may wait in the buffer of standard output at most. */
const FLUSH_EVERY_MS = 1000;

/**
 * Standard output, buffered, as a line per request is cheaper so (bench/RESULTS.md, "A log line
 * per request"); pino flushes the buffer when the process exits. The buffer is also written out
 * every FLUSH_EVERY_MS: else a quiet service's lines (its start, a warning) would wait for the
 * next 4 KB of others, however long that takes.
 */
function bufferedStandardOutput(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => {
    try {
      stream.flush();
    } catch {
      clearInterval(timer); // the stream is closed: nothing more will be written
    }
  }, FLUSH_EVERY_MS);
  timer.unref();
  return stream;
}

/** Nest's own logging (and every `new Logger(context)`) written through pino. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = contextOf(params);
    if (context !== undefined && DEBUG_CONTEXTS.has(context)) this.write('debug', message, params);
    else this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack, context) for errors.
    const stack = params.length >= 2 && typeof params[0] === 'string' ? params[0] : undefined;
    this.write('error', message, params, stack);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: pino.Level, message: unknown, params: unknown[], stack?: string): void {
    if (!this.root.isLevelEnabled(level)) return;
    const context = contextOf(params);
    if (message instanceof Error) {
      this.root[level]({ context, err: message }, message.message);
    } else if (typeof message === 'string') {
      this.root[level](stack ? { context, stack } : { context }, message);
    } else {
      this.root[level]({ context, data: message });
    }
  }
}

function contextOf(params: unknown[]): string | undefined {
  const last = params[params.length - 1];
  return typeof last === 'string' ? last : undefined;
}

/**
 * The first admin's generated password, on its own and framed, where a person starting the
 * service looks: standard error, apart from the log lines (a log shipper never stores it).
 */
export function printAdminPasswordBanner(
  email: string,
  password: string,
  out: { write(text: string): unknown } = process.stderr,
): void {
  const lines = [
    'FIRST ADMIN CREATED: sign in and change this password (it is shown only this once)',
    '',
    `  email:    ${email}`,
    `  password: ${password}`,
  ];
  const width = Math.max(...lines.map((line) => line.length)) + 4;
  const rule = '#'.repeat(width);
  out.write(
    `\n${rule}\n${lines.map((line) => `# ${line.padEnd(width - 4)} #`).join('\n')}\n${rule}\n\n`,
  );
}
