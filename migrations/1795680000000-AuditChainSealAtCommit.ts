import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit chain's head is locked at COMMIT only, not from an entry's INSERT to the end of its
 * transaction (issue 12). Before this, the BEFORE INSERT trigger locked `audit_chain_head` FOR
 * UPDATE and held it until the inserting transaction ended, so every transaction that wrote an
 * entry waited for all the client round trips of the one ahead of it between its entry and its
 * COMMIT.
 *
 * Now an entry is inserted unsealed: the BEFORE INSERT trigger `audit_logs_chain` clears `seq`,
 * `prev_hash` and `hash` (whatever an INSERT says of them), so they are NULL inside the inserting
 * transaction, and dates the entry with the time of its INSERT. The constraint trigger
 * `audit_logs_seal`, AFTER INSERT, DEFERRABLE INITIALLY DEFERRED, fires for each entry when its
 * transaction commits, in the order the entries were inserted: it locks the head, numbers the
 * entry, links it, raises created_at to the head's time (and past the customer's previous entry)
 * where the chain is already beyond it, hashes it (the same `audit_entry_hash()`), writes those
 * four columns into the row and moves the head. The lock is then held only through the rest of
 * the commit, so `seq` order is still commit order, without a gap: an entry rolled back was never
 * numbered. A transaction that sets the constraint IMMEDIATE seals at the end of its INSERT
 * statement and holds the lock to its end, as every transaction did before. Whoever inserts, the
 * database seals.
 *
 * The append-only trigger lets exactly that one UPDATE through: from inside a trigger
 * (pg_trigger_depth() > 1), of the entry the seal names (a transaction-local setting), unsealed
 * (OLD.seq IS NULL, so once), changing nothing but the four sealed columns. A committed entry
 * always carries seq, prev_hash and hash: the seal fires for every inserted row before its
 * transaction commits and refuses to leave one unset; the columns lose NOT NULL only because the
 * row exists unsealed until then (UNIQUE (seq) and UNIQUE (prev_hash) still refuse a fork).
 *
 * Nothing may take the head's lock before its commit any more: a transaction that did (as
 * webhook endpoint changes did, AuditWriter.lockChain) would hold it while waiting for rows that a
 * committing transaction holds, which then waits for the head.
 */
export class AuditChainSealAtCommit1795680000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_logs_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Sealed at commit by audit_logs_seal; unsealed until then, whatever the INSERT said.
        NEW.seq := NULL;
        NEW.prev_hash := NULL;
        NEW.hash := NULL;
        -- When the change was written: the seal keeps it unless the chain is already past it.
        NEW.created_at := date_trunc('milliseconds', clock_timestamp());
        RETURN NEW;
      END
      $$`);

    // As the owner (SECURITY DEFINER): the service's role may only INSERT into audit_logs. With
    // the schema the migrations run in, and pg_temp last, as such a function must.
    const [{ schema }] = (await queryRunner.query(`SELECT current_schema() AS schema`)) as {
      schema: string;
    }[];
    await queryRunner.query(`
      CREATE FUNCTION "audit_logs_seal"() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = "${schema.replace(/"/g, '""')}", pg_temp AS $$
      DECLARE
        head_seq bigint;
        head_hash text;
        head_time timestamptz;
        head_row tid;
        entry audit_logs%ROWTYPE := NEW;
      BEGIN
        -- Held until this transaction ends, which it is about to (unless it set the constraint
        -- IMMEDIATE): the next entry is sealed after this one commits or rolls back. Its ctid
        -- moves it without looking for it again (past every old version not yet pruned).
        SELECT seq, hash, created_at, ctid INTO head_seq, head_hash, head_time, head_row
          FROM audit_chain_head WHERE id FOR UPDATE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'audit_chain_head has no row: the audit chain cannot go on';
        END IF;
        entry.seq := head_seq + 1;
        entry.prev_hash := head_hash;
        -- The time of the INSERT, raised after the lock, in a statement of its own (a snapshot
        -- that sees the previous entry): never before the head's time, and after the customer's
        -- previous sealed entry (this transaction's own unsealed ones do not count: they are
        -- sealed after this one). Not the time of the commit: a transaction that writes many
        -- changes before it commits (the boundary scheduler's batch) dates each one when written.
        entry.created_at := GREATEST(
          NEW.created_at,
          head_time,
          (SELECT max(a.created_at) + interval '1 millisecond'
             FROM audit_logs a WHERE a.customer_id = NEW.customer_id AND a.seq IS NOT NULL));
        entry.hash := audit_entry_hash(entry);
        IF entry.hash IS NULL OR entry.prev_hash IS NULL OR entry.seq IS NULL THEN
          RAISE EXCEPTION 'audit entry % cannot be sealed', NEW.id;
        END IF;
        -- Names the one update the append-only trigger lets through, for this entry only.
        PERFORM set_config('customer_access.audit_sealing', NEW.id::text, true);
        UPDATE audit_logs
           SET seq = entry.seq, prev_hash = entry.prev_hash, created_at = entry.created_at,
               hash = entry.hash
         WHERE id = NEW.id AND seq IS NULL;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'audit entry % is not there unsealed: it cannot be sealed', NEW.id;
        END IF;
        PERFORM set_config('customer_access.audit_sealing', '', true);
        UPDATE audit_chain_head
           SET seq = entry.seq, hash = entry.hash, created_at = entry.created_at
         WHERE ctid = head_row;
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER "audit_logs_seal" AFTER INSERT ON "audit_logs"
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION "audit_logs_seal"()`);

    // Archived entries may still go (up to the seq the owner's session names); the seal is the
    // one update: from inside a trigger, of the entry the seal names, unsealed, nothing else
    // changed. The service's role has no UPDATE on audit_logs at all; the owner, who could switch
    // this trigger off anyway, could name an entry the same way.
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
        ELSIF TG_OP = 'UPDATE' AND TG_LEVEL = 'ROW' AND pg_trigger_depth() > 1
            AND current_setting('customer_access.audit_sealing', true) = OLD.id::text
            AND OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
            AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
            AND to_jsonb(NEW) - '{seq,prev_hash,hash,created_at}'::text[]
              = to_jsonb(OLD) - '{seq,prev_hash,hash,created_at}'::text[] THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);

    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "seq" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "prev_hash" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "hash" DROP NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "hash" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "prev_hash" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_logs" ALTER COLUMN "seq" SET NOT NULL`);
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
    await queryRunner.query(`DROP TRIGGER "audit_logs_seal" ON "audit_logs"`);
    await queryRunner.query(`DROP FUNCTION "audit_logs_seal"()`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_logs_chain"() RETURNS trigger LANGUAGE plpgsql AS $$
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
  }
}
