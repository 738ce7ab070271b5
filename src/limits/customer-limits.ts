import { accessAt, HoldTimes } from '../customers/access/customer-access';
import type { PlanSet } from './plan-sets';

/** A hold that may still count: not lifted, and its end (if any) not yet come. */
export type PendingHold = HoldTimes;

/** What a customer's limits answer says, apart from its id (a byte per customer in the store). */
export const Standing = {
  /** Not in memory as true now: ask the database. */
  Unknown: 0,
  /** Enabled, with no hold to come. */
  Enabled: 1,
  /** Enabled, with holds to come (`until` is the next start). */
  EnabledUntil: 2,
  Disabled: 3,
} as const;
export type Standing = (typeof Standing)[keyof typeof Standing];

/**
 * A customer's limits as of `asOf`: its standing, its plan-set, and the holds that may still
 * start or end (only for the few customers that have any), true until `until` (ms; Infinity:
 * until a change is announced).
 */
export interface CustomerLimits {
  standing: Standing;
  planSet: PlanSet;
  holds: CustomerHolds | undefined;
  asOf: number;
  until: number;
}

/** The pending holds of a customer, with the `holds` array of its answer in JSON. */
export interface CustomerHolds {
  pending: readonly PendingHold[];
  /** The active holds as the answer lists them (`[]` while enabled). */
  json: string;
}

/**
 * The limits at `now` from the holds that were pending when read (accessAt, the one rule) and
 * the plan-set. Also how the store moves a customer across a hold's start or end, from memory.
 */
export function customerLimitsAt(
  planSet: PlanSet,
  holds: readonly PendingHold[],
  now: number,
): CustomerLimits {
  const pending = holds.filter((hold) => hold.endsAt === null || hold.endsAt.getTime() > now);
  if (pending.length === 0) {
    return { standing: Standing.Enabled, planSet, holds: undefined, asOf: now, until: Infinity };
  }
  const access = accessAt(pending, new Date(now));
  return {
    standing: access.disabled ? Standing.Disabled : Standing.EnabledUntil,
    planSet,
    holds: { pending, json: access.disabled ? activeHoldsJson(access.activeHolds) : '[]' },
    asOf: now,
    until: access.nextBoundary?.getTime() ?? Infinity,
  };
}

/** The active holds as the answer names them (LimitsHoldDto), in JSON. */
export function activeHoldsJson(active: readonly PendingHold[]): string {
  return JSON.stringify(
    active.map((hold) => ({
      id: hold.id,
      source: hold.source,
      reason_code: hold.reasonCode,
      since: hold.startsAt.toISOString(),
      until: hold.endsAt?.toISOString() ?? null,
    })),
  );
}

const DISABLED_GRANTS = ',"user_count":0,"features":[],"limits":{}';

/**
 * The limits answer (LimitsDto) in JSON, byte for byte what JSON.stringify gives for the DTO
 * (same keys in the same order): a disabled customer is granted nothing. `customerId` is
 * canonical (a lower-case uuid: nothing to escape).
 */
export function limitsJson(
  customerId: string,
  standing: Standing,
  planSet: PlanSet,
  holdsJson: string | undefined,
  asOfIso: string,
): string {
  return standing === Standing.Disabled
    ? `{"customer_id":"${customerId}","status":"disabled","disabled":true,"holds":${holdsJson}${DISABLED_GRANTS},"as_of":"${asOfIso}"}`
    : `{"customer_id":"${customerId}","status":"enabled","disabled":false,"holds":[]${planSet.json},"as_of":"${asOfIso}"}`;
}

/** Pending holds from the store's queries: `[[id, source, reason_code, starts_ms, ends_ms], …]`. */
export function pendingHoldsFromJson(json: string | null): PendingHold[] {
  if (json === null) return [];
  const rows = JSON.parse(json) as [string, PendingHold['source'], string, number, number | null][];
  return rows.map(([id, source, reasonCode, startsAt, endsAt]) => ({
    id,
    source,
    reasonCode,
    reason: null,
    startsAt: new Date(startsAt),
    endsAt: endsAt === null ? null : new Date(endsAt),
    liftedAt: null,
    pauseBilling: false,
  }));
}
