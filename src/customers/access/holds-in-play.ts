/**
 * The holds of customer `customer` (an SQL expression) that can matter to the access rule
 * (accessAt) at any instant from `from` (an SQL expression) on, as the rows of `SELECT h.*`
 * (unordered); a customer's lifted and expired history before that is never read.
 *
 * A hold matters at t >= from if it counts at t or later (the state, the reason, the next
 * boundary), or if it belongs to the disabled stretch around t (disabled_since walks back through
 * holds that ran into the stretch without a gap, lifted and expired ones included). The second
 * kind is found by walking back: a horizon starts at `from`, and while a hold that stops at or
 * after the horizon started before it, the horizon moves back to that start. At the end every hold
 * that stops at or after the horizon started at or after it, so no hold stopping before the horizon
 * can touch a stretch that reaches it, and the holds that stop from the horizon on are all that
 * matter. For a customer with no stretch running into `from` that is its unlifted holds yet to
 * end and those that stopped from `from` on; each step of the walk reads index ranges of
 * ix_holds_customer_id_lifted_at_ends_at only.
 *
 * The walk is the database function `holds_in_play` (migration 1795700000000-HoldsInPlayFunction):
 * there its statement is planned once per connection, where inline it was planned again at
 * nearly every execution, at more than the cost of running it.
 */
export function holdsInPlaySql(customer: string, from: string): string {
  return `SELECT h.* FROM holds_in_play(${customer}, ${from}::timestamptz) h`;
}
