import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events out (issue 10). `events` is the outbox: each row is written in the transaction of the
 * change it reports, and `seq` keeps their order. Every consumer's work is its own table, filled in
 * that same transaction: `webhook_deliveries` (one per event and endpoint, with `webhook_attempts`
 * as the delivery log) and `customer_notifications` (at most one email per event). Both are queues
 * that any instance claims with FOR UPDATE SKIP LOCKED and a lease (`locked_until`), so that a
 * receiver's slowness never holds a transaction or a connection.
 */
export class Events1795640000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL, "type" text NOT NULL, "customer_id" uuid, "data" jsonb NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, CONSTRAINT "ck_events_type" CHECK (type IN (\'customer.disabled\', \'customer.enabled\', \'hold.placed\', \'hold.lifted\', \'hold.expired\', \'invoice.overdue\', \'invoice.paid\', \'webhook.test\')), CONSTRAINT "pk_events" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "ix_events_type_seq" ON "events"  ("type", "seq") ');
    await queryRunner.query(
      'CREATE INDEX "ix_events_customer_id_seq" ON "events"  ("customer_id", "seq") ',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "uq_events_seq" ON "events"  ("seq") ');
    await queryRunner.query(
      'CREATE TABLE "webhook_endpoints" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "url" text NOT NULL, "event_types" text array NOT NULL, "description" text, "enabled" boolean NOT NULL DEFAULT true, "secret" text NOT NULL, "previous_secret" text, "previous_secret_expires_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_webhook_endpoints" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_endpoints_created_at_id" ON "webhook_endpoints"  ("created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "webhook_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "endpoint_id" uuid NOT NULL, "state" text NOT NULL DEFAULT \'pending\', "attempts" integer NOT NULL DEFAULT \'0\', "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE, "locked_until" TIMESTAMP(3) WITH TIME ZONE, "last_error" text, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_webhook_deliveries_state" CHECK (state IN (\'pending\', \'delivered\', \'failed\')), CONSTRAINT "pk_webhook_deliveries" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_endpoint_id" ON "webhook_deliveries"  ("endpoint_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_event_id" ON "webhook_deliveries"  ("event_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries"  ("next_attempt_at") WHERE state = \'pending\'',
    );
    await queryRunner.query(
      'CREATE TABLE "webhook_attempts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "delivery_id" uuid NOT NULL, "event_id" uuid NOT NULL, "endpoint_id" uuid NOT NULL, "attempt" integer NOT NULL, "status_code" integer, "duration_ms" integer NOT NULL, "error" text, "delivered_at" TIMESTAMP(3) WITH TIME ZONE, "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_webhook_attempts" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_attempts_delivery_id" ON "webhook_attempts"  ("delivery_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_webhook_attempts_endpoint_id_created_at_id" ON "webhook_attempts"  ("endpoint_id", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "customer_notifications" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "customer_id" uuid NOT NULL, "event_id" uuid NOT NULL, "kind" text NOT NULL, "recipient" text NOT NULL, "subject" text NOT NULL, "state" text NOT NULL DEFAULT \'pending\', "attempts" integer NOT NULL DEFAULT \'0\', "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE, "locked_until" TIMESTAMP(3) WITH TIME ZONE, "last_error" text, "sent_at" TIMESTAMP(3) WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_customer_notifications_state" CHECK (state IN (\'pending\', \'sent\', \'failed\')), CONSTRAINT "ck_customer_notifications_kind" CHECK (kind IN (\'hold_scheduled\', \'customer_disabled\', \'customer_enabled\', \'invoice_overdue\')), CONSTRAINT "pk_customer_notifications" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_customer_notifications_due" ON "customer_notifications"  ("next_attempt_at") WHERE state = \'pending\'',
    );
    await queryRunner.query(
      'CREATE INDEX "ix_customer_notifications_customer_id_created_at_id" ON "customer_notifications"  ("customer_id", "created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "uq_customer_notifications_event_id" ON "customer_notifications"  ("event_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "fk_webhook_deliveries_event" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "fk_webhook_deliveries_endpoint" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_attempts" ADD CONSTRAINT "fk_webhook_attempts_delivery" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "customer_notifications" ADD CONSTRAINT "fk_customer_notifications_customer" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "customer_notifications" ADD CONSTRAINT "fk_customer_notifications_event" FOREIGN KEY ("event_id") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "customer_notifications" DROP CONSTRAINT "fk_customer_notifications_event"',
    );
    await queryRunner.query(
      'ALTER TABLE "customer_notifications" DROP CONSTRAINT "fk_customer_notifications_customer"',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_attempts" DROP CONSTRAINT "fk_webhook_attempts_delivery"',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "fk_webhook_deliveries_endpoint"',
    );
    await queryRunner.query(
      'ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "fk_webhook_deliveries_event"',
    );
    await queryRunner.query('DROP INDEX "public"."uq_customer_notifications_event_id"');
    await queryRunner.query(
      'DROP INDEX "public"."ix_customer_notifications_customer_id_created_at_id"',
    );
    await queryRunner.query('DROP INDEX "public"."ix_customer_notifications_due"');
    await queryRunner.query('DROP TABLE "customer_notifications"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_attempts_endpoint_id_created_at_id"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_attempts_delivery_id"');
    await queryRunner.query('DROP TABLE "webhook_attempts"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_due"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_event_id"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_deliveries_endpoint_id"');
    await queryRunner.query('DROP TABLE "webhook_deliveries"');
    await queryRunner.query('DROP INDEX "public"."ix_webhook_endpoints_created_at_id"');
    await queryRunner.query('DROP TABLE "webhook_endpoints"');
    await queryRunner.query('DROP INDEX "public"."uq_events_seq"');
    await queryRunner.query('DROP INDEX "public"."ix_events_customer_id_seq"');
    await queryRunner.query('DROP INDEX "public"."ix_events_type_seq"');
    await queryRunner.query('DROP TABLE "events"');
  }
}
