import { Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/postgres-errors';

/**
 * The loop of a background worker on every instance: a pass every `intervalMs` (through the
 * ordinary pool, so it works on the embedded engine, which has one connection and no LISTEN), a
 * pass at once on `kick()` (this instance's own events), never two passes at a time. A pass
 * returns whether it may have left work behind (a full batch), and then the next follows at once.
 */
export class PollingWorker {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private kicked = false;
  private stopped = true;

  constructor(
    name: string,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<boolean>,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  /** Waits for the pass under way, if any; no pass starts after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Runs a pass now, or right after the one under way. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    clearTimeout(this.timer);
    this.run();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delayMs);
    this.timer.unref();
  }

  private run(): void {
    this.kicked = false;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      this.schedule(this.kicked ? 0 : this.intervalMs);
    });
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.pass()));
    } catch (error) {
      if (this.stopped) return;
      // An outage is logged by the requests it refuses; the next pass picks up what was due.
      if (isDatabaseUnavailable(error)) {
        this.logger.debug(`Waiting for the database: ${String(error)}`);
      } else {
        this.logger.error('A pass failed', (error as Error).stack);
      }
    }
  }
}
