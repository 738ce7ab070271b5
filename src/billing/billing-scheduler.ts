import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
// A dynamic job, as @nestjs/schedule documents it: CronJob from `cron`, which it depends on.
import { CronJob } from 'cron';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { BillingService } from './billing.service';

/**
 * Runs billing on the BILLING_RUN_CRON schedule (UTC); off when it is unset. Every instance
 * runs it: overlapping runs share the work and never invoice a period twice. A tick that comes
 * while this instance's previous run is still going is skipped.
 */
@Injectable()
export class BillingScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('BillingScheduler');
  private job: CronJob | undefined;
  private running = false;

  constructor(
    private readonly billing: BillingService,
    private readonly registry: SchedulerRegistry,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const expression = this.config.billingRunCron;
    if (!expression) return;
    this.job = CronJob.from({
      cronTime: expression,
      timeZone: 'UTC',
      onTick: () => this.tick(),
    });
    // Registered, the job is stopped with the application by @nestjs/schedule.
    this.registry.addCronJob('billing-run', this.job);
    this.job.start();
    this.logger.log(`Billing runs on the schedule "${expression}" (UTC)`);
  }

  /** One scheduled run; resolves when it is over. Exposed for the tests. */
  async tick(): Promise<void> {
    if (this.running) {
      this.logger.warn('The previous scheduled billing run is still going: this tick is skipped');
      return;
    }
    this.running = true;
    try {
      await this.billing.run('scheduled');
    } catch (error) {
      this.logger.error('The scheduled billing run failed', (error as Error).stack);
    } finally {
      this.running = false;
    }
  }

  get scheduled(): boolean {
    return this.job !== undefined;
  }
}
