import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every hold use case (a disable, an enable, a hold placed, lifted or reviewed, the boundary
 * scheduler's and dunning's runs) starts by locking the customer's row and then reading its holds
 * in play. Those were two round trips (issue 12): the read had to be a statement of its own,
 * after the lock, so that it saw what the lock's previous holder committed. Each round trip costs
 * the service and PostgreSQL more than either statement (a write to a socket whose reader sleeps,
 * and its wake-up), and a status change made five.
 *
 * `lock_customer(customer_id, look_from)` makes them one: a VOLATILE function, whose every statement
 * takes a snapshot of its own in READ COMMITTED. It locks the row FOR UPDATE (waiting for the
 * holder, as before), then reads the holds in play in a second statement, which sees whatever
 * the holder committed. It returns nothing for an unknown customer, else one row:
 *   - `customer`: the row as locked (`row_to_json`, hydrated by the service as the entity);
 *   - `holds`: the holds in play from LEAST(look_from, the row's next_boundary_at), ordered by
 *     start, then id (`json_agg`, as holdFromRow reads);
 *   - `tx_started_at`: the transaction's start as the columns stamped with CURRENT_TIMESTAMP
 *     store it (timestamptz(3)).
 * `look_from` is the earliest instant the use case will look at, taken before the lock; the
 * service takes its "now" after it. An earlier instant only reads more of the holds that are in
 * play (holds_in_play from an instant includes those in play from any later one), never fewer.
 *
 * It also sets plan_cache_mode = force_generic_plan for the rest of the transaction
 * (`set_config(..., true)`: a SET LOCAL, which a SET clause on the function would undo at its
 * exit), as the lock statement did before: the use case's writes statement is then planned once
 * per connection.
 */
export class LockCustomerFunction1795710000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION "lock_customer"(customer_id uuid, look_from timestamptz)
        RETURNS TABLE (customer json, holds json, tx_started_at timestamptz)
        LANGUAGE plpgsql VOLATILE
        AS $$
      DECLARE
        locked customers%ROWTYPE;
      BEGIN
        SELECT c.* INTO locked FROM customers c WHERE c.id = lock_customer.customer_id FOR UPDATE;
        IF NOT FOUND THEN
          RETURN;
        END IF;
        PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
        -- A statement of its own, after the lock: it sees what the lock's previous holder committed.
        RETURN QUERY
        SELECT row_to_json(locked),
               coalesce((SELECT json_agg(h ORDER BY h.starts_at, h.id)
                           FROM holds_in_play(locked.id,
                                              LEAST(look_from, locked.next_boundary_at)) h),
                        '[]'::json),
               CURRENT_TIMESTAMP::timestamptz(3);
      END
      $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION "lock_customer"(uuid, timestamptz)`);
  }
}
