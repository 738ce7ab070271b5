import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log becomes a hash chain (issue 13). Every entry gets `seq` (gap-free, in commit
 * order), `prev_hash` and `hash` (SHA-256 over a length-prefixed encoding of all its fields and
 * `prev_hash`: docs/audit-chain.md), and may name a `target` other than a customer.
 *
 * The chain is kept by the database itself, whoever inserts: a BEFORE INSERT trigger locks the
 * one row of `audit_chain_head` (a row that always exists, unlike the newest entry of a possibly
 * empty table), numbers the entry, links it, stamps created_at after the lock (never before it,
 * so times follow the chain), hashes it and moves the head, all in the inserting transaction.
 * The lock is held to that transaction's end, so `seq` order is commit order; UNIQUE (seq) and
 * UNIQUE (prev_hash) make any fork fail loudly. Existing entries are chained in (created_at, id)
 * order. Signed checkpoints of the head go to `audit_checkpoints`, append-only too. The
 * append-only trigger lets the owner delete entries only up to the seq a session names in
 * `customer_access.audit_archive_through`: what `npm run audit:archive` does after exporting them
 * and signing an anchor.
 */
export class AuditChain1795660000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    // The hash is over UTF-8 bytes, and octet_length() counts the server encoding's.
    await queryRunner.query(`
      DO $$ BEGIN
        IF current_setting('server_encoding') <> 'UTF8' THEN
          RAISE EXCEPTION 'The audit chain needs a UTF8 database (this one is %)',
            current_setting('server_encoding');
        END IF;
      END $$`);

    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "seq" bigint`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "prev_hash" text`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "hash" text`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "target_type" text`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ADD "target_id" uuid`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "ck_audit_logs_actor_type"`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "ck_audit_logs_actor_type" CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous'))`,
    );
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "ck_audit_logs_target" CHECK ((target_type IS NULL) = (target_id IS NULL))`,
    );

    // The encoding of docs/audit-chain.md, field by field.
    await queryRunner.query(`
      CREATE FUNCTION "audit_field"(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN value IS NULL THEN '-1:' ELSE octet_length(value) || ':' || value END $$`);
    await queryRunner.query(`
      CREATE FUNCTION "audit_time"(value timestamptz) RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$`);
    await queryRunner.query(`
      CREATE FUNCTION "audit_canonical_json"(value jsonb) RETURNS text
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
      DECLARE
        result text;
      BEGIN
        CASE jsonb_typeof(value)
          WHEN 'object' THEN
            SELECT '{' || coalesce(string_agg(to_jsonb(e.key)::text || ':' ||
                     audit_canonical_json(e.value), ',' ORDER BY e.key COLLATE "C"), '') || '}'
              INTO result FROM jsonb_each(value) AS e;
          WHEN 'array' THEN
            SELECT '[' || coalesce(string_agg(audit_canonical_json(a.value), ','
                     ORDER BY a.n), '') || ']'
              INTO result FROM jsonb_array_elements(value) WITH ORDINALITY AS a(value, n);
          ELSE
            result := value::text;
        END CASE;
        RETURN result;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION "audit_entry_hash"(e "audit_logs") RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to(
          audit_field('customer-access/audit-log/v1') ||
          audit_field(e.seq::text) ||
          audit_field(e.prev_hash) ||
          audit_field(e.id::text) ||
          audit_field(audit_time(e.created_at)) ||
          audit_field(e.action) ||
          audit_field(e.customer_id::text) ||
          audit_field(e.target_type) ||
          audit_field(e.target_id::text) ||
          audit_field(e.hold_id::text) ||
          audit_field(e.actor_type) ||
          audit_field(e.actor_id::text) ||
          audit_field(e.actor_name) ||
          audit_field(e.reason) ||
          audit_field(audit_canonical_json(e.before)) ||
          audit_field(audit_canonical_json(e.after)) ||
          audit_field(audit_time(e.effective_at)) ||
          audit_field(e.request_id) ||
          audit_field(e.ip) ||
          audit_field(e.user_agent),
          'UTF8')), 'hex')
      $$`);

    await queryRunner.query(`
      CREATE TABLE "audit_chain_head" (
        "id" boolean NOT NULL DEFAULT true,
        "seq" bigint NOT NULL,
        "hash" text NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "ck_audit_chain_head_one_row" CHECK (id),
        CONSTRAINT "pk_audit_chain_head" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`
      CREATE FUNCTION "audit_keep_row"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    // The head may move (UPDATE) but never go away: it is the chain's lock.
    await queryRunner.query(`
      CREATE TRIGGER "audit_chain_head_keep" BEFORE DELETE ON "audit_chain_head"
        FOR EACH ROW EXECUTE FUNCTION "audit_keep_row"()`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_chain_head_no_truncate" BEFORE TRUNCATE ON "audit_chain_head"
        FOR EACH STATEMENT EXECUTE FUNCTION "audit_keep_row"()`);

    // Existing entries, chained in the order they were written. Run as the owner, with the
    // append-only trigger off for this transaction only.
    await queryRunner.query(
      `ALTER TABLE "audit_logs" DISABLE TRIGGER "audit_logs_no_update_delete"`,
    );
    await queryRunner.query(`
      DO $$
      DECLARE
        entry audit_logs%ROWTYPE;
        n bigint := 0;
        prev text := repeat('0', 64);
        latest timestamptz;
      BEGIN
        FOR entry IN SELECT * FROM audit_logs ORDER BY created_at, id LOOP
          n := n + 1;
          entry.seq := n;
          entry.prev_hash := prev;
          prev := audit_entry_hash(entry);
          UPDATE audit_logs SET seq = n, prev_hash = entry.prev_hash, hash = prev
           WHERE id = entry.id;
          latest := entry.created_at;
        END LOOP;
        INSERT INTO audit_chain_head (id, seq, hash, created_at) VALUES (true, n, prev, latest);
      END $$`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ENABLE TRIGGER "audit_logs_no_update_delete"`,
    );

    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "seq" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "prev_hash" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "hash" SET NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "uq_audit_logs_seq" UNIQUE ("seq")`,
    );
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "uq_audit_logs_prev_hash" UNIQUE ("prev_hash")`,
    );
    // Pages are (created_at, seq): created_at never goes down along the chain, so that is seq
    // order, and a time range stays one range of each index.
    await queryRunner.query(`DROP INDEX "ix_audit_logs_created_at_id"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_customer_id_created_at_id"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_actor_id_created_at_id"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_action_created_at_id"`);
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_created_at_seq" ON "audit_logs" ("created_at", "seq")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_customer_id_created_at_seq" ON "audit_logs" ("customer_id", "created_at", "seq")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_actor_id_created_at_seq" ON "audit_logs" ("actor_id", "created_at", "seq")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_action_created_at_seq" ON "audit_logs" ("action", "created_at", "seq")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_target_id_created_at_seq" ON "audit_logs" ("target_id", "created_at", "seq")`,
    );

    await queryRunner.query(`
      CREATE FUNCTION "audit_logs_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        head audit_chain_head%ROWTYPE;
      BEGIN
        -- Held until this transaction ends: the next entry waits for it to commit or roll back.
        SELECT * INTO head FROM audit_chain_head WHERE id FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'audit_chain_head has no row: the audit chain cannot go on';
        END IF;
        NEW.seq := head.seq + 1;
        NEW.prev_hash := head.hash;
        -- Taken after the lock, in a statement of its own (a snapshot that sees the previous
        -- entry): never before the head's time, and after the customer's previous entry.
        NEW.created_at := GREATEST(
          date_trunc('milliseconds', clock_timestamp()),
          head.created_at,
          (SELECT max(a.created_at) + interval '1 millisecond'
             FROM audit_logs a WHERE a.customer_id = NEW.customer_id));
        NEW.hash := audit_entry_hash(NEW);
        UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash, created_at = NEW.created_at
         WHERE id;
        RETURN NEW;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_logs_chain" BEFORE INSERT ON "audit_logs"
        FOR EACH ROW EXECUTE FUNCTION "audit_logs_chain"()`);

    // Append-only still, but the owner may delete the oldest entries once they are archived:
    // only up to the seq its own session names, and only as the table's owner (or a superuser).
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_logs_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        through bigint;
      BEGIN
        IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' THEN
          through := nullif(current_setting('customer_access.audit_archive_through', true), '')::bigint;
          IF through IS NOT NULL AND pg_has_role(current_user,
              (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            IF OLD.seq <= through THEN
              RETURN OLD;
            END IF;
          END IF;
        END IF;
        RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);

    await queryRunner.query(`
      CREATE TABLE "audit_checkpoints" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "kind" text NOT NULL,
        "seq" bigint NOT NULL,
        "hash" text NOT NULL,
        "signed_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "signature" text NOT NULL,
        "key_id" text NOT NULL,
        "public_key" text NOT NULL,
        CONSTRAINT "ck_audit_checkpoints_kind" CHECK (kind IN ('checkpoint', 'archive')),
        CONSTRAINT "pk_audit_checkpoints" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_audit_checkpoints_seq_signed_at" ON "audit_checkpoints" ("seq", "signed_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_checkpoints_signed_at_id" ON "audit_checkpoints" ("signed_at", "id")`,
    );
    await queryRunner.query(`
      CREATE TRIGGER "audit_checkpoints_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_checkpoints"
        FOR EACH ROW EXECUTE FUNCTION "audit_keep_row"()`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_checkpoints_no_truncate" BEFORE TRUNCATE ON "audit_checkpoints"
        FOR EACH STATEMENT EXECUTE FUNCTION "audit_keep_row"()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_checkpoints"`);
    await queryRunner.query(`DROP TRIGGER "audit_logs_chain" ON "audit_logs"`);
    await queryRunner.query(`DROP FUNCTION "audit_logs_chain"()`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_logs_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`DROP TABLE "audit_chain_head"`);
    await queryRunner.query(`DROP FUNCTION "audit_keep_row"()`);
    await queryRunner.query(`DROP FUNCTION "audit_entry_hash"("audit_logs")`);
    await queryRunner.query(`DROP FUNCTION "audit_canonical_json"(jsonb)`);
    await queryRunner.query(`DROP FUNCTION "audit_time"(timestamptz)`);
    await queryRunner.query(`DROP FUNCTION "audit_field"(text)`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_target_id_created_at_seq"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_action_created_at_seq"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_actor_id_created_at_seq"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_customer_id_created_at_seq"`);
    await queryRunner.query(`DROP INDEX "ix_audit_logs_created_at_seq"`);
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_created_at_id" ON "audit_logs" ("created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_customer_id_created_at_id" ON "audit_logs" ("customer_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_actor_id_created_at_id" ON "audit_logs" ("actor_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_audit_logs_action_created_at_id" ON "audit_logs" ("action", "created_at", "id")`,
    );
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "uq_audit_logs_prev_hash"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "uq_audit_logs_seq"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "ck_audit_logs_target"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP CONSTRAINT "ck_audit_logs_actor_type"`);
    await queryRunner.query(
      `ALTER TABLE "audit_logs" ADD CONSTRAINT "ck_audit_logs_actor_type" CHECK (actor_type IN ('user', 'api_key', 'system'))`,
    );
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "target_id"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "target_type"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "hash"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "prev_hash"`);
    await queryRunner.query(`ALTER TABLE "audit_logs" DROP COLUMN "seq"`);
  }
}
