/**
 * The dunning rules as one pure function: what a customer's open invoices, past warnings and
 * overdue holds call for at an instant. The run uses it twice: on a batch read without locks, to
 * skip customers for whom nothing is due (the common case, which makes a second run cheap), and
 * under the customer's row lock, where its answer is applied.
 */

import { daysOverdue } from '../billing/overdue';

export interface DunningRules {
  /** Days past due of each warning step, ascending. */
  warnDays: readonly number[];
  /** Days past due at which an open invoice holds its customer. */
  holdDays: number;
}

export interface OpenInvoice {
  id: string;
  /** As shown: INV-000042. */
  number: string;
  dueAt: Date;
}

export interface OverdueHoldState {
  id: string;
  /** The invoices it was placed for (and those that passed the threshold while it was active). */
  invoiceIds: readonly string[];
}

/** What the rules read of one customer. */
export interface DunningState {
  exempt: boolean;
  /** Its open invoices (paid and void ones end every rule). */
  openInvoices: readonly OpenInvoice[];
  /** `${invoiceId}:${step}` of the steps already reached. */
  warned: ReadonlySet<string>;
  /** Its active `overdue` holds (one, unless something went around the rules). */
  activeHolds: readonly OverdueHoldState[];
  /** Invoices covered by an `overdue` hold that a person (not `system`) lifted. */
  released: ReadonlySet<string>;
}

export interface PlannedWarning {
  invoiceId: string;
  step: number;
  daysOverdue: number;
  /** False: a later step is reached at the same time and is the one sent. */
  send: boolean;
}

export type LiftCause = 'settled' | 'exempt';

export interface DunningPlan {
  warnings: PlannedWarning[];
  /** Place one hold for these invoices (all that are past the hold threshold). */
  place: OpenInvoice[] | null;
  /** Add invoices that passed the threshold to the active hold's record. */
  cover: { holdId: string; invoiceIds: string[] } | null;
  /** Lift the rules' active holds, and why. */
  lift: { holdIds: string[]; cause: LiftCause } | null;
}

export const warnedKey = (invoiceId: string, step: number): string => `${invoiceId}:${step}`;

export function isEmptyPlan(plan: DunningPlan): boolean {
  return plan.warnings.length === 0 && !plan.place && !plan.cover && !plan.lift;
}

export function planDunning(state: DunningState, now: Date, rules: DunningRules): DunningPlan {
  const warnings: PlannedWarning[] = [];
  for (const invoice of state.openInvoices) {
    const days = daysOverdue(invoice.dueAt, now);
    const reached = rules.warnDays.filter((step) => days >= step);
    const missing = reached.filter((step) => !state.warned.has(warnedKey(invoice.id, step)));
    if (missing.length === 0) continue;
    // Only the latest step reached is sent; earlier ones not sent yet (the rules did not run in
    // between, or the invoice was already that late) are recorded as passed, never sent later.
    const latest = reached[reached.length - 1];
    for (const step of missing) {
      warnings.push({ invoiceId: invoice.id, step, daysOverdue: days, send: step === latest });
    }
  }

  const far = state.openInvoices.filter((i) => daysOverdue(i.dueAt, now) >= rules.holdDays);

  let place: OpenInvoice[] | null = null;
  let cover: DunningPlan['cover'] = null;
  let lift: DunningPlan['lift'] = null;
  const activeIds = state.activeHolds.map((h) => h.id);
  if (state.exempt || far.length === 0) {
    if (activeIds.length > 0) {
      lift = { holdIds: activeIds, cause: state.exempt ? 'exempt' : 'settled' };
    }
  } else if (state.activeHolds.length > 0) {
    const hold = state.activeHolds[0];
    const uncovered = far.filter((i) => !hold.invoiceIds.includes(i.id)).map((i) => i.id);
    if (uncovered.length > 0) cover = { holdId: hold.id, invoiceIds: uncovered };
  } else if (far.some((i) => !state.released.has(i.id))) {
    // A person lifted a hold for some of them: those alone never hold the customer again, but a
    // new one past the threshold does, and the hold then names every invoice that far overdue.
    place = far;
  }
  return { warnings, place, cover, lift };
}

/** The hold's reason: the invoices, oldest due first, with their days past due. */
export function holdReason(invoices: readonly OpenInvoice[], now: Date, holdDays: number): string {
  const sorted = [...invoices].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  const shown = sorted
    .slice(0, 20)
    .map((i) => `${i.number} (${daysOverdue(i.dueAt, now)} days past due)`);
  const more = sorted.length > 20 ? ` and ${sorted.length - 20} more` : '';
  const what = sorted.length === 1 ? 'Invoice' : 'Invoices';
  return `${what} unpaid ${holdDays} or more days past due: ${shown.join(', ')}${more}`;
}

export function liftReason(cause: LiftCause, holdDays: number): string {
  return cause === 'exempt'
    ? 'The customer is dunning exempt'
    : `No invoice is ${holdDays} or more days past due any more`;
}
