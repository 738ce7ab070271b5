import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The seal hashes an entry without parsing SQL (issue 12). The hash is the same, byte for byte:
 * the encoding of docs/audit-chain.md is unchanged, and every entry sealed before verifies.
 *
 * Before, `audit_entry_hash()` was a SQL function over `audit_field()` and `audit_time()`, two
 * SQL functions PostgreSQL could not inline:
 * - `audit_field` is IMMUTABLE, but its body wrote `octet_length(value) || ':'`, an integer
 *   concatenated to text, which is the STABLE `anytextcat`: PostgreSQL inlines no function whose
 *   body is more volatile than it says it is.
 * - Where its argument was `audit_canonical_json(...)` (a PL/pgSQL call, costly), the argument
 *   would have been evaluated three times over: PostgreSQL refuses to inline that too.
 * A SQL function that is not inlined is parsed and planned again on every call from a new
 * statement's execution, and `audit_logs_seal` (at every COMMIT that writes an entry, while it
 * holds the chain's head) called 19 of them per entry: a `perf` of a backend inserting entries
 * spent 31% of its time in `fmgr_sql`, parsing and planning them, and half of it in the seal.
 * With this migration pgbench (`BEGIN; INSERT one entry; COMMIT`, prepared, 8 clients) went from
 * 646 to 1,136 transactions per second here.
 *
 * Now:
 * - `audit_field` concatenates text to text (`::text`), so it is inlined wherever its argument
 *   is cheap. Same output.
 * - `audit_entry_hash` is PL/pgSQL: its expressions are planned once per session, each field is
 *   computed once into a variable and encoded by the (inlined) `audit_field`.
 */
export class AuditEntryHashPlanned1795690000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_field"(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN value IS NULL THEN '-1:' ELSE octet_length(value)::text || ':' || value END $$`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_entry_hash"(e "audit_logs") RETURNS text
        LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
      DECLARE
        field text;
        encoded text := '';
      BEGIN
        -- The fields of docs/audit-chain.md, in its order.
        FOREACH field IN ARRAY ARRAY[
          'customer-access/audit-log/v1', e.seq::text, e.prev_hash, e.id::text,
          audit_time(e.created_at), e.action, e.customer_id::text, e.target_type,
          e.target_id::text, e.hold_id::text, e.actor_type, e.actor_id::text, e.actor_name,
          e.reason, audit_canonical_json(e.before), audit_canonical_json(e.after),
          audit_time(e.effective_at), e.request_id, e.ip, e.user_agent]
        LOOP
          encoded := encoded || audit_field(field);
        END LOOP;
        RETURN encode(sha256(convert_to(encoded, 'UTF8')), 'hex');
      END
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // As AuditChain1795660000000 wrote them (a migration restates, it does not import).
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "audit_entry_hash"(e "audit_logs") RETURNS text
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
      CREATE OR REPLACE FUNCTION "audit_field"(value text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT CASE WHEN value IS NULL THEN '-1:' ELSE octet_length(value) || ':' || value END $$`);
  }
}
