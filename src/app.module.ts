import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { AccessStreamModule } from './access-stream/access-stream.module';
import { AuditModule } from './audit/audit.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AccessGuard } from './auth/access.guard';
import { AuthModule } from './auth/auth.module';
import { AuthenticationGuard } from './auth/authentication.guard';
import { BillingModule } from './billing/billing.module';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { CustomersModule } from './customers/customers.module';
import { dataSourceOptions } from './database/data-source-options';
import { entities } from './entities';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HoldsModule } from './holds/holds.module';
import { Clock, ClockModule } from './common/clock';
import { LimitsModule } from './limits/limits.module';
import { PlansModule } from './plans/plans.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { NotesModule } from './notes/notes.module';
import { EventFeedModule } from './event-feed/event-feed.module';
import { EventsModule } from './events/events.module';
import { NotificationsModule } from './notifications/notifications.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { DunningModule } from './dunning/dunning.module';
import { ObservabilityModule } from './observability/observability.module';
import type { Logger } from 'pino';

/** The configuration with its database resolved: the URL, and whether it is the embedded engine. */
export type ResolvedConfig = AppConfig & {
  databaseUrl: string;
  /**
   * The embedded engine (PGlite) serves `databaseUrl`: its socket server can mix up the messages
   * of concurrent connections, so the pool sends each statement only once the one before it is
   * answered (no pipelining). False unless said.
   */
  databaseEmbedded?: boolean;
};

@Module({})
export class AppModule {
  /** The whole service for one configuration; `databaseUrl` must be resolved by then. */
  static forRoot(config: ResolvedConfig, clock: Clock | undefined, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule.forRoot(clock),
        ObservabilityModule.forRoot(logger),
        TypeOrmModule.forRoot({
          // Migrations ran before (createApp), possibly as another role: never on this pool.
          ...dataSourceOptions({
            entities,
            url: config.databaseUrl,
            poolSize: config.databasePoolSize,
            pipelining: config.databaseEmbedded !== true,
            timeouts: {
              connectMs: config.databaseConnectTimeoutMs,
              statementMs: config.databaseStatementTimeoutMs,
              lockMs: config.databaseLockTimeoutMs,
            },
          }),
          // Fail the start instead of retrying for minutes against a wrong URL.
          retryAttempts: 2,
          retryDelay: 1000,
        }),
        // A use case that writes runs in one transaction, carried by CLS, so that every
        // repository call (and the audit entry) joins it without passing it along. The context
        // is opened by UnitOfWork.run() for the use case, not per request: reads outside a
        // transaction need none. Not ClsModule.forRoot: it always registers a global interceptor
        // (a no-op unless mounted), and any global interceptor costs Nest 11 every route most of
        // its throughput (bench/RESULTS.md, "Earlier measurements").
        {
          ...ClsModule.registerPlugins([
            new ClsPluginTransactional({
              imports: [TypeOrmModule],
              adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
            }),
          ]),
          global: true,
        },
        DatabaseModule,
        // Once for the app (global): the billing and dunning schedules share its registry.
        ScheduleModule.forRoot(),
        HealthModule,
        AuthModule,
        ApiKeysModule,
        PlansModule,
        SubscriptionsModule,
        LimitsModule,
        BillingModule,
        CustomersModule,
        HoldsModule,
        AuditModule,
        NotesModule,
        EventsModule,
        EventFeedModule,
        NotificationsModule,
        WebhooksModule,
        DunningModule,
        AccessStreamModule,
      ],
      // One global guard: who is calling (AuthenticationGuard), then whether the route admits them (admission).
      // Wired here, where both halves are in view: AuthModule gives the users and the route
      // reader, ApiKeysModule the API_KEY_AUTHENTICATOR (api-keys depends on auth, not back).
      providers: [AuthenticationGuard, { provide: APP_GUARD, useClass: AccessGuard }],
    };
  }
}
