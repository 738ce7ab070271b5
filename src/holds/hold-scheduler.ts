import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { isDatabaseUnavailable } from '../common/postgres-errors';
import { HoldsService } from './holds.service';

const BATCH = 100;

/**
 * Rewrites the projection of customers whose hold starts or ends, with no request to trigger it:
 * every instance polls every HOLD_SCHEDULER_INTERVAL_MS through its ordinary pool (so it works on
 * the embedded engine, which has one connection and no LISTEN), and the row locks share the work
 * out. Answers never wait for it: they derive from the holds at the instant; this writes the
 * audit transitions and the stored status (lists, billing).
 */
@Injectable()
export class HoldScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HoldScheduler');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly holds: HoldsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.config.holdSchedulerIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      // A full batch means more may be due: go on at once.
      while (!this.stopped && (await this.holds.settleDue(BATCH)) === BATCH);
    } catch (error) {
      if (this.stopped) return;
      // An outage is logged once by the requests it refuses (DatabaseAvailability), not by every
      // tick of every instance; the next tick catches up whatever was due.
      if (isDatabaseUnavailable(error)) {
        this.logger.debug(`Settling hold boundaries waits for the database: ${String(error)}`);
      } else {
        this.logger.error('Settling hold boundaries failed', (error as Error).stack);
      }
    }
  }
}
