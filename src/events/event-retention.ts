import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { PollingWorker } from './polling-worker';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const BATCH = 1000;

/**
 * Keeps the outbox from growing for ever: once an hour, each instance removes events older than
 * EVENT_RETENTION_DAYS (at least 30, so the feed keeps what the contract promises), in batches,
 * with their delivery logs and emails (by cascade). By then every retry is long over (the
 * longest schedule is hours). Instances doing it at once only share the batches.
 */
@Injectable()
export class EventRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly worker: PollingWorker;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.worker = new PollingWorker(
      'EventRetention',
      HOUR_MS,
      async () => (await this.prune()) === BATCH,
    );
  }

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.worker.stop();
  }

  /** Removes one batch of expired events; returns how many. */
  async prune(): Promise<number> {
    const before = new Date(this.clock.now().getTime() - this.config.eventRetentionDays * DAY_MS);
    const result = await this.db.query<[unknown[], number]>(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE created_at < $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [before.toISOString(), BATCH],
    );
    return result[1];
  }
}
