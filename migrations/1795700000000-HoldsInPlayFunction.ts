import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The walk that finds the holds in play (src/customers/access/holds-in-play.ts) becomes a
 * PL/pgSQL function, `holds_in_play(customer, from)`, whose statement is planned once per
 * connection (issue 12). The rows are the same.
 *
 * Before, every statement that read a customer's holds (a status change under the lock, a staff
 * read of a customer, the limits' miss path) carried the walk inline, and PostgreSQL planned it
 * again at nearly every execution: about 0.5 to 0.7 ms of the server's CPU each time, more than
 * running it. The named statements were no exception: `pg_stat_statements` over a mixed load
 * counted 7,456 plans for 10,359 customer reads. PostgreSQL keeps a prepared statement's generic
 * plan only while its estimated cost is below the custom plans' average; the walk's estimates,
 * made from the statistics of a table whose newest holds were lifted moments ago, never are.
 *
 * Now the walk runs inside `holds_in_play`, declared `SET plan_cache_mode =
 * force_generic_plan`: PL/pgSQL prepares its query at the first call on a connection and runs
 * that plan from then on (index ranges on ix_holds_customer_id_lifted_at_ends_at, whatever the
 * instant). The setting holds only while the function runs. The statements that call it are
 * cheap to plan.
 *
 * `RETURNS SETOF holds`: the rows are the table's, so `SELECT h.*` and `json_agg(h)` read as
 * before. STABLE: it reads, and sees the calling statement's snapshot.
 */
export class HoldsInPlayFunction1795700000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    // "Stops from t": unlifted without end, unlifted ending from t, lifted from t (the three
    // ranges of the index). The horizon walks back while a hold that stops from it started
    // before it; every hold that stops from the final horizon is in play.
    await queryRunner.query(`
      CREATE FUNCTION "holds_in_play"(customer uuid, from_at timestamptz) RETURNS SETOF "holds"
        LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 4
        SET plan_cache_mode = force_generic_plan
        AS $$
      BEGIN
        RETURN QUERY
        WITH RECURSIVE horizon(at) AS (
          SELECT from_at
          UNION ALL
          SELECT earlier.at
            FROM horizon,
                 LATERAL (SELECT min(e.starts_at) AS at FROM holds e
                           WHERE e.customer_id = customer
                             AND ((e.lifted_at IS NULL AND e.ends_at IS NULL)
                               OR (e.lifted_at IS NULL AND e.ends_at >= horizon.at)
                               OR (e.lifted_at >= horizon.at
                                   AND (e.ends_at IS NULL OR e.ends_at >= horizon.at)))) earlier
           WHERE earlier.at < horizon.at
        ), since AS (SELECT min(at) AS at FROM horizon)
        SELECT h.* FROM holds h, since
         WHERE h.customer_id = customer
           AND ((h.lifted_at IS NULL AND h.ends_at IS NULL)
             OR (h.lifted_at IS NULL AND h.ends_at >= since.at)
             OR (h.lifted_at >= since.at AND (h.ends_at IS NULL OR h.ends_at >= since.at)));
      END
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION "holds_in_play"(uuid, timestamptz)`);
  }
}
