import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
// A dynamic job, as the billing scheduler makes one: CronJob from `cron`.
import { CronJob } from 'cron';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { AuditChainService, ScheduledCheckpoint } from './audit-chain.service';

/**
 * Signs the audit chain's head on AUDIT_CHECKPOINT_CRON (UTC; hourly by default). Every instance
 * ticks; an advisory lock lets one sign and the others skip, and an unchanged head is not signed
 * again.
 */
@Injectable()
export class AuditCheckpointScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCheckpoints');
  private job: CronJob | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly chain: AuditChainService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const expression = this.config.auditCheckpointCron;
    if (!expression) return;
    this.job = CronJob.from({
      cronTime: expression,
      timeZone: 'UTC',
      onTick: () => void this.tick(),
    });
    this.job.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
    await this.running;
  }

  /** One scheduled checkpoint; never throws (a failure is logged). Exposed for the tests. */
  async tick(): Promise<ScheduledCheckpoint | 'failed'> {
    if (this.running) return 'busy';
    const run = this.chain.createScheduledCheckpoint().then(
      (outcome) => {
        if (typeof outcome !== 'string') {
          this.logger.log(`Signed the audit chain's head: seq ${outcome.seq}`);
        }
        return outcome;
      },
      (error: unknown) => {
        this.logger.error(
          `The scheduled audit checkpoint failed: ${(error as Error).message}`,
          (error as Error).stack,
        );
        return 'failed' as const;
      },
    );
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }
}
