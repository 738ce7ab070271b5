import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
// A dynamic job, as @nestjs/schedule documents it: CronJob from `cron`, which it depends on.
import { CronJob } from 'cron';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { DunningRunDto } from './dto/dunning.dto';
import { DunningService } from './dunning.service';
import { JobLeases } from './job-leases';

const LEASE = 'dunning-run';
/** Renewed after every batch, so only a dead instance lets it run out. */
const LEASE_MS = 10 * 60_000;

/**
 * Runs the dunning rules on the DUNNING_CRON schedule (UTC; `off` turns it off), on one instance
 * at a time: every instance ticks, the one that takes the `job_leases` row runs, the others skip.
 * A run on another instance at the same moment would be safe anyway (each customer is evaluated
 * under its row lock); the lease only saves the work twice over.
 */
@Injectable()
export class DunningScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DunningScheduler');
  private job: CronJob | undefined;
  private running: Promise<unknown> | null = null;
  private stopping = false;

  constructor(
    private readonly dunning: DunningService,
    private readonly leases: JobLeases,
    private readonly registry: SchedulerRegistry,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const expression = this.config.dunningCron;
    if (!expression) return;
    this.job = CronJob.from({
      cronTime: expression,
      timeZone: 'UTC',
      onTick: async () => {
        await this.tick();
      },
    });
    // Registered, the job is stopped with the application by @nestjs/schedule.
    this.registry.addCronJob('dunning-run', this.job);
    this.job.start();
    this.logger.log(`Dunning runs on the schedule "${expression}" (UTC)`);
  }

  /**
   * One scheduled run; resolves when it is over, with what it did, or null when it did not run
   * (another instance holds the lease, or this one's previous run is still going). Exposed for
   * the tests.
   */
  async tick(): Promise<DunningRunDto | null> {
    if (this.stopping) return null;
    if (this.running) {
      this.logger.warn('The previous dunning run is still going: this tick is skipped');
      return null;
    }
    const run = this.runLeased();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = null;
    }
  }

  /**
   * Stops the schedule and lets a run in progress end after the customer it is on (the rest is
   * the next run's), before the database goes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.job?.stop();
    await this.running;
  }

  private async runLeased(): Promise<DunningRunDto | null> {
    try {
      if (!(await this.leases.acquire(LEASE, LEASE_MS))) return null;
      try {
        return await this.dunning.run({
          renew: () => this.leases.acquire(LEASE, LEASE_MS),
          stopped: () => this.stopping,
        });
      } finally {
        await this.leases.release(LEASE);
      }
    } catch (error) {
      this.logger.error('The scheduled dunning run failed', (error as Error).stack);
      return null;
    }
  }

  get scheduled(): boolean {
    return this.job !== undefined;
  }
}
