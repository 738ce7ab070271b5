import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The seal's UPDATE finds its entry by the primary key only (issue 12).
 *
 * `audit_logs_seal` (1795680000000) wrote `WHERE id = NEW.id AND seq IS NULL`. Both conditions are
 * indexed: `id` by the primary key, `seq IS NULL` by `uq_audit_logs_seq`, whose NULL entries are
 * the entries not yet sealed. The planner rates them alike (one row each, by the statistics: no
 * committed entry is unsealed) and, on this schema, takes `uq_audit_logs_seq`. That index also
 * holds the NULL entry of every sealed entry's first version, until VACUUM removes it; the seal
 * walks all of them, under the chain's head lock. Most are skipped cheaply once marked dead, but
 * not while any transaction holds an older snapshot (an export, a verify, a replica's query with
 * hot_standby_feedback): then every seal reads every entry unsealed since that snapshot began.
 * With a REPEATABLE READ transaction held open, pgbench (`BEGIN; INSERT two entries; COMMIT`,
 * one client) spent 1,918 then 3,308 µs of PostgreSQL's CPU per transaction over two 5 s runs
 * before this migration, 1,143 then 2,007 after (bench/RESULTS.md, "The seal's update by the
 * primary key"); with no snapshot held, the same.
 *
 * Now the condition on seq is `coalesce(seq, 0) = 0`: the same rows (a sealed entry's seq is 1 or
 * more), and no index serves it, so the primary key does. The rest of the function is as it was.
 */
export class AuditSealByPrimaryKey1795720000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      await sealFunction(queryRunner, 'id = NEW.id AND coalesce(seq, 0) = 0'),
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(await sealFunction(queryRunner, 'id = NEW.id AND seq IS NULL'));
  }
}

/**
 * audit_logs_seal as 1795680000000 wrote it, with `unsealed` as its UPDATE's condition: as the
 * owner (SECURITY DEFINER), with the schema the migrations run in, and pg_temp last.
 */
async function sealFunction(queryRunner: QueryRunner, unsealed: string): Promise<string> {
  const [{ schema }] = (await queryRunner.query(`SELECT current_schema() AS schema`)) as {
    schema: string;
  }[];
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  return `
      CREATE OR REPLACE FUNCTION "audit_logs_seal"() RETURNS trigger LANGUAGE plpgsql
        SECURITY DEFINER SET search_path = ${quoted}, pg_temp AS $$
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
         WHERE ${unsealed};
        IF NOT FOUND THEN
          RAISE EXCEPTION 'audit entry % is not there unsealed: it cannot be sealed', NEW.id;
        END IF;
        PERFORM set_config('customer_access.audit_sealing', '', true);
        UPDATE audit_chain_head
           SET seq = entry.seq, hash = entry.hash, created_at = entry.created_at
         WHERE ctid = head_row;
        RETURN NULL;
      END
      $$`;
}
