import { Client, Pool, PoolClient, Query, QueryArrayConfig, QueryConfig } from 'pg';
import type { DataSource } from 'typeorm';
import { pgPoolOf, statementName } from '../database/pg-pool';
import type { PlanGrants } from './plan-sets';

/**
 * A customer's plans as a plan-set key (`plan_id*count,…` by plan id, null for none; see
 * planSetKey) and its pending holds as `[[id, source, reason_code, starts_ms, ends_ms], …]` (null
 * for none): the two things the limits answer needs of a customer besides the plans themselves.
 */
const PLANS_OF = (customer: string) => `
  SELECT string_agg(g.plan_id::text || '*' || g.n, ',' ORDER BY g.plan_id)
    FROM (SELECT s.plan_id, count(*) AS n FROM subscriptions s
           WHERE s.customer_id = ${customer} AND s.status = 'active'
           GROUP BY s.plan_id) g`;
const HOLD_JSON = `json_agg(json_build_array(h.id, h.source, h.reason_code,
    (extract(epoch FROM h.starts_at) * 1000)::bigint,
    (extract(epoch FROM h.ends_at) * 1000)::bigint))::text`;
/** Not lifted and not over at the instant given: the holds that may still count. */
const PENDING = `h.lifted_at IS NULL AND (h.ends_at IS NULL OR h.ends_at > $TIME::timestamptz)`;

/** One customer: no row when it does not exist. $1 the id, $2 the instant. */
export const CUSTOMER_LIMITS_SQL = `
  SELECT (${PLANS_OF('c.id')}) AS plans,
         (SELECT ${HOLD_JSON} FROM holds h
           WHERE h.customer_id = c.id AND ${PENDING.replace('$TIME', '$2')}) AS holds
    FROM customers c
   WHERE c.id = $1`;

/** How many customers one row of ALL_LIMITS_SQL packs. */
export const CUSTOMERS_PER_ROW = 2000;
/** A packed customer: its uuid's 32 hex digits, then its plan-set's number in 6 hex digits. */
export const PACKED_LENGTH = 38;

/** The kinds of rows of ALL_LIMITS_SQL, in the order they arrive. */
export const RowKind = { Plan: 0, PlanSet: 1, Holds: 2, Customers: 3 } as const;

/**
 * Every customer, in one statement, rows `[kind, part, data]` in this order:
 * - `Plan`: a plan's number in this statement (`part`) and its id;
 * - `PlanSet`: a combination of plans by number (`part`), its plans' numbers (`1,1,3`: a plan
 *   held twice is there twice; '' for none);
 * - `Holds`: a customer with pending holds: `<id> <holds as in CUSTOMER_LIMITS_SQL>`;
 * - `Customers`: up to CUSTOMERS_PER_ROW customers packed (PACKED_LENGTH characters each).
 * Packed, a million customers are 500 rows of 76 kB that JavaScript reads without creating a
 * string or an object per customer (row by row they left hundreds of MB of garbage in the heap).
 * $1 the instant.
 */
export const ALL_LIMITS_SQL = `
  WITH plan_numbers AS MATERIALIZED (
    SELECT id, (row_number() OVER (ORDER BY id))::int AS no FROM plans
  ), customer_plans AS MATERIALIZED (
    SELECT c.id, coalesce(s.plans, '') AS plans
      FROM customers c
      LEFT JOIN (
        SELECT s.customer_id, string_agg(pn.no::text, ',' ORDER BY pn.no) AS plans
          FROM subscriptions s JOIN plan_numbers pn ON pn.id = s.plan_id
         WHERE s.status = 'active'
         GROUP BY s.customer_id
      ) s ON s.customer_id = c.id
  ), plan_sets AS MATERIALIZED (
    SELECT plans, (row_number() OVER (ORDER BY plans) - 1)::int AS no
      FROM (SELECT DISTINCT plans FROM customer_plans) d
  )
  SELECT ${RowKind.Plan} AS kind, no AS part, id::text AS data FROM plan_numbers
  UNION ALL
  SELECT ${RowKind.PlanSet}, no, plans FROM plan_sets
  UNION ALL
  SELECT ${RowKind.Holds}, 0, h.customer_id::text || ' ' || ${HOLD_JSON}
    FROM holds h WHERE ${PENDING.replace('$TIME', '$1')}
   GROUP BY h.customer_id
  UNION ALL
  SELECT ${RowKind.Customers}, b.part, string_agg(replace(b.id::text, '-', '') || lpad(to_hex(b.no), 6, '0'), '')
    FROM (SELECT cp.id, ps.no, (row_number() OVER () - 1) / ${CUSTOMERS_PER_ROW} AS part
            FROM customer_plans cp JOIN plan_sets ps USING (plans)) b
   GROUP BY b.part
  ORDER BY 1, 2`;

/** Plans with their grants, one row per plan and feature. $1 the ids, or null for all plans. */
export const PLANS_SQL = `
  SELECT p.id, p.user_count, f.code, pf."limit"
    FROM plans p
    LEFT JOIN plan_features pf ON pf.plan_id = p.id
    LEFT JOIN features f ON f.id = pf.feature_id
   WHERE $1::uuid[] IS NULL OR p.id = ANY($1::uuid[])`;

export type CustomerRow = [plans: string | null, holds: string | null];

/** Named, so that each pooled connection parses and plans them once. */
const CUSTOMER_STATEMENT = 'limits_customer';
const PLANS_STATEMENT = 'limits_plans';

/** What the limits store reads, straight through `pg` (not the ORM): it runs on every miss. */
export class LimitsReads {
  private readonly pool: Pool;

  constructor(private readonly dataSource: DataSource) {
    this.pool = pgPoolOf(dataSource);
  }

  /** The customer's plans and pending holds at `now`; undefined when it does not exist. */
  async customer(customerId: string, now: number): Promise<CustomerRow | undefined> {
    const result = await this.pool.query<CustomerRow>({
      name: statementName(this.dataSource, CUSTOMER_STATEMENT),
      text: CUSTOMER_LIMITS_SQL,
      values: [customerId, new Date(now).toISOString()],
      rowMode: 'array',
    });
    return result.rows[0];
  }

  /** The plans with these ids (all plans for null). */
  plans(
    ids: string[] | null,
    on: Pool | Client | PoolClient = this.pool,
  ): Promise<Map<string, PlanGrants>> {
    return LimitsReads.plans(on, ids, statementName(this.dataSource, PLANS_STATEMENT));
  }

  private static async plans(
    on: Pool | Client | PoolClient,
    ids: string[] | null,
    name: string | undefined,
  ): Promise<Map<string, PlanGrants>> {
    const result = await on.query<
      [id: string, userCount: number, code: string | null, limit: number | null]
    >({ name, text: PLANS_SQL, values: [ids], rowMode: 'array' });
    const plans = new Map<string, { userCount: number; grants: Map<string, number | null> }>();
    for (const [id, userCount, code, limit] of result.rows) {
      let plan = plans.get(id);
      if (!plan) {
        plan = { userCount, grants: new Map() };
        plans.set(id, plan);
      }
      if (code !== null) plan.grants.set(code, limit);
    }
    return plans;
  }

  /**
   * ALL_LIMITS_SQL at `now` on `client`, row by row as they arrive (never all in memory at
   * once). Resolves with the number of rows once all arrived.
   */
  static streamAll(
    client: Client | PoolClient,
    now: number,
    onRow: (kind: number, part: number, data: string) => void,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      let rows = 0;
      let failed: Error | undefined;
      const config: QueryArrayConfig = {
        text: ALL_LIMITS_SQL,
        values: [new Date(now).toISOString()],
        rowMode: 'array',
      };
      const query = new Query(config as QueryConfig);
      query.on('row', (row: [number, number, string]) => {
        if (failed !== undefined) return;
        rows += 1;
        try {
          onRow(row[0], row[1], row[2]);
        } catch (error) {
          // Not thrown into pg's parser: the statement runs to its end, then this fails.
          failed = error instanceof Error ? error : new Error('A row could not be kept');
        }
      });
      query.on('error', reject);
      query.on('end', () => (failed === undefined ? resolve(rows) : reject(failed)));
      client.query(query);
    });
  }
}
