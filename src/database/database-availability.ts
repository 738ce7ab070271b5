import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseUnavailableError } from '../common/errors';
import { describeDatabaseError } from '../common/postgres-errors';

/** The readiness check's own deadline: a frozen database must not hold `/health/ready`. */
export const PING_TIMEOUT_MS = 800;
/** While an outage lasts, the database is pinged this often to see it end. */
const PROBE_INTERVAL_MS = 1000;
/** A long outage is recalled in the log this often, with the count so far. */
const REMINDER_INTERVAL_MS = 60_000;

interface Outage {
  since: number;
  refused: number;
  lastLogged: number;
  probe: NodeJS.Timeout;
}

/**
 * Knows whether the database answers, for the readiness check and for the error log. A request
 * refused for a database outage (503) is logged once per outage, not once per request: the
 * first refusal opens the outage with one line, later ones are only counted (with a reminder
 * every minute), and a ping every second closes it with one line saying how long it lasted and
 * how many requests were refused.
 */
@Injectable()
export class DatabaseAvailability implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private outage: Outage | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** True while an outage is open (a refusal seen, no answer since). */
  get down(): boolean {
    return this.outage !== undefined;
  }

  /**
   * Resolves when the database answers `SELECT 1` within `timeoutMs`, else throws
   * DatabaseUnavailableError. Callers share one query in flight: a frozen database, asked
   * every few hundred milliseconds, gets one stuck query, not one per caller (each would hold
   * a pooled connection until the client's deadline).
   */
  async ping(timeoutMs = PING_TIMEOUT_MS): Promise<void> {
    this.inFlight ??= this.dataSource
      .query('SELECT 1')
      .then(() => undefined)
      .finally(() => {
        this.inFlight = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer to a ping within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      // The race handles a late rejection of the shared query too: nothing goes unhandled.
      await Promise.race([this.inFlight, deadline]);
    } catch (error) {
      throw new DatabaseUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
    this.answered();
  }

  /** A request was answered 503 because of `error`: logged if it opens an outage, else counted. */
  refused(error: unknown, what: string): void {
    const now = Date.now();
    const outage = this.outage;
    if (outage) {
      outage.refused += 1;
      if (now - outage.lastLogged >= REMINDER_INTERVAL_MS) {
        outage.lastLogged = now;
        this.logger.error(
          `Still answering 503 after ${seconds(now - outage.since)} s: ${outage.refused} requests ` +
            `refused so far (${describeDatabaseError(error)})`,
        );
      }
      return;
    }
    if (this.stopped) return;
    const probe = setInterval(() => void this.ping().catch(() => undefined), PROBE_INTERVAL_MS);
    probe.unref();
    this.outage = { since: now, refused: 1, lastLogged: now, probe };
    this.logger.error(
      `The database failed ${what} (${describeDatabaseError(error)}): answering 503 with ` +
        'Retry-After; further failures are counted, not logged, until it answers again',
    );
  }

  private answered(): void {
    const outage = this.outage;
    if (!outage) return;
    this.outage = undefined;
    clearInterval(outage.probe);
    this.logger.log(
      `The database answers again after ${seconds(Date.now() - outage.since)} s; ` +
        `${outage.refused} requests were answered 503 meanwhile`,
    );
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.outage) clearInterval(this.outage.probe);
    this.outage = undefined;
  }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
