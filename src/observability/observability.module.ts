import { DynamicModule, Injectable, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Metrics } from './metrics';
import { OperationsLog } from './operations-log';
import { Readiness } from './readiness';

/** The pg pool under TypeORM's PostgreSQL driver (its `master`). */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const OUTBOX_TABLES = { webhook: 'webhook_deliveries', email: 'customer_notifications' } as const;

/** The figures computed at scrape time: the pool's counters, and one cheap query per outbox table. */
@Injectable()
export class ScrapeCollectors implements OnModuleInit, OnModuleDestroy {
  constructor(
    private readonly metrics: Metrics,
    private readonly db: DataSource,
  ) {}

  onModuleInit(): void {
    this.metrics.onScrape(() => {
      const pool = (this.db.driver as unknown as { master?: PgPool }).master;
      if (!pool) return;
      this.metrics.databasePool.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
      this.metrics.databasePool.set({ state: 'idle' }, pool.idleCount);
      this.metrics.databasePool.set({ state: 'waiting' }, pool.waitingCount);
    });
    for (const [kind, table] of Object.entries(OUTBOX_TABLES)) {
      // The partial index on pending rows (ix_*_due) serves it.
      this.metrics.onScrape(async () => {
        const [row] = await this.db.query<{ pending: number; oldest: number | null }[]>(
          `SELECT count(*)::int AS pending,
                  extract(epoch FROM now() - min(created_at))::float8 AS oldest
             FROM ${table} WHERE state = 'pending'`,
        );
        this.metrics.outboxPending.set({ kind }, row.pending);
        this.metrics.outboxOldestPendingAge.set({ kind }, Math.max(0, row.oldest ?? 0));
      });
    }
  }

  onModuleDestroy(): void {
    this.metrics.stop();
  }
}

/**
 * The operator's side of the service: the logger, the metrics and readiness. Global, like the
 * clock: infrastructure every module may report to, with one instance per app.
 */
@Module({})
export class ObservabilityModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      providers: [
        { provide: OperationsLog, useValue: new OperationsLog(logger) },
        { provide: Metrics, useFactory: () => new Metrics() },
        Readiness,
        ScrapeCollectors,
      ],
      exports: [OperationsLog, Metrics, Readiness],
    };
  }
}
