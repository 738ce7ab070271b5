import { roleAtLeast } from '../api';
import type { Actor, Hold, HoldState, HoldSummary, Role } from '../api';
import { formatTime, h, time } from '../dom';

const REASON_CODE_LABELS: Record<string, string> = {
  non_payment: 'Non-payment',
  dispute: 'Dispute',
  customer_request: 'Customer request',
  compliance: 'Compliance',
  security: 'Security',
  other: 'Other',
};

/** A configured code the page has no words for is shown as it is. */
export const reasonCodeLabel = (code: string) => REASON_CODE_LABELS[code] ?? code;

const SOURCE_LABELS: Record<string, string> = {
  manual: 'Manual',
  overdue: 'Overdue invoice',
};

export const sourceLabel = (source: string) => SOURCE_LABELS[source] ?? source;

const STATE_LABELS: Record<HoldState, string> = {
  active: 'Active',
  scheduled: 'Scheduled',
  lifted: 'Lifted',
  expired: 'Expired',
};

/**
 * The contract's rule, mirrored so that nobody is offered a button the service will refuse:
 * manual holds need customer_support, holds placed by another source (the dunning rules)
 * account_manager.
 */
export function mayLift(role: Role, hold: Pick<Hold, 'source'>): boolean {
  return roleAtLeast(role, hold.source === 'manual' ? 'customer_support' : 'account_manager');
}

export const isLiftable = (hold: Pick<Hold, 'state'>) =>
  hold.state === 'active' || hold.state === 'scheduled';

/** Whether a hold of the customer object blocks at `now` (its summary carries no state). */
export const isActiveAt = (hold: HoldSummary, now: number) =>
  Date.parse(hold.starts_at) <= now && (hold.ends_at === null || now < Date.parse(hold.ends_at));

/** The next instant after `now` at which one of these holds starts or ends, or null. */
export function nextBoundary(holds: HoldSummary[], now: number): number | null {
  let next: number | null = null;
  for (const hold of holds) {
    for (const instant of [hold.starts_at, hold.ends_at]) {
      const at = instant === null ? NaN : Date.parse(instant);
      if (at > now && (next === null || at < next)) next = at;
    }
  }
  return next;
}

/** A date field's value (a day in UTC, as every time on the page) as the instant it begins. */
export const startOfUtcDay = (day: string) => `${day}T00:00:00.000Z`;

/** The UTC day of an instant, as a date field's value: 2026-11-27. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function actorName(actor: Actor | null | undefined): string {
  if (!actor) return 'unknown';
  if (actor.type === 'system') return 'the service (automatic)';
  if (actor.type === 'anonymous') return `${actor.name ?? 'unknown'} (not signed in)`;
  const kind = actor.type === 'api_key' ? 'API key' : 'staff';
  return `${actor.name ?? actor.id ?? 'unknown'} (${kind})`;
}

/** The rules are the `system` actor when they place or lift their own (`overdue`) hold. */
export function holdActorName(actor: Actor | null | undefined, hold: Pick<Hold, 'source'>): string {
  if (actor?.type === 'system' && hold.source === 'overdue') return 'the dunning rules (automatic)';
  return actorName(actor);
}

/** Whether the dunning rules placed it: what staff must know before lifting it. */
export const placedByRules = (hold: Pick<Hold, 'source'>) => hold.source === 'overdue';

export function holdStateBadge(state: HoldState): HTMLSpanElement {
  return h('span', { class: `badge badge-hold-${state}` }, STATE_LABELS[state] ?? state);
}

/** One line that tells holds apart in a list or a dialog: "Compliance (manual), from …". */
export function describeHold(hold: HoldSummary, now: number): string {
  const what = `${reasonCodeLabel(hold.reason_code)} (${sourceLabel(hold.source).toLowerCase()})`;
  const from =
    Date.parse(hold.starts_at) > now
      ? `scheduled from ${formatTime(hold.starts_at)}`
      : `since ${formatTime(hold.starts_at)}`;
  const until = hold.ends_at ? `until ${formatTime(hold.ends_at)}` : 'until lifted';
  return `${what}, ${from}, ${until}`;
}

/**
 * The customer's holds, newest first, each with its state; active and scheduled ones have a
 * "Lift" button for the roles that may lift them. Buttons carry `data-focus-key`, so that a
 * refresh of the table can give focus back to the same button.
 */
export function renderHolds(
  holds: Hold[],
  options: { role: Role; onLift: (hold: Hold, button: HTMLButtonElement) => void },
): HTMLElement {
  if (holds.length === 0)
    return h('p', { class: 'empty' }, 'No holds: nothing blocks this customer.');
  const now = Date.now();
  const rows = holds.map((hold) => {
    let lift: HTMLButtonElement | null = null;
    if (isLiftable(hold) && mayLift(options.role, hold)) {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'button-secondary button-small',
          'data-focus-key': `lift-${hold.id}`,
          'aria-label': `Lift the ${reasonCodeLabel(hold.reason_code)} hold from ${formatTime(hold.starts_at)}`,
        },
        'Lift',
      );
      button.addEventListener('click', () => options.onLift(hold, button));
      lift = button;
    }
    const reviewDue =
      hold.state === 'active' && hold.review_at !== null && Date.parse(hold.review_at) <= now;
    return h(
      'tr',
      { 'data-hold-id': hold.id, 'data-state': hold.state },
      h('th', { scope: 'row', tabindex: -1, 'data-item': true }, reasonCodeLabel(hold.reason_code)),
      h(
        'td',
        {},
        holdStateBadge(hold.state),
        hold.state === 'lifted' && hold.lifted_at
          ? h(
              'span',
              { class: 'since' },
              ' on ',
              time(hold.lifted_at),
              ` by ${holdActorName(hold.lifted_by, hold)}`,
              hold.lift_reason ? [': ', h('q', {}, hold.lift_reason)] : null,
            )
          : null,
      ),
      h(
        'td',
        {},
        sourceLabel(hold.source),
        placedByRules(hold)
          ? h('span', { class: 'badge badge-rules' }, 'Placed by the dunning rules')
          : null,
      ),
      h('td', { class: 'hold-reason' }, hold.reason ?? '—'),
      h('td', {}, time(hold.starts_at)),
      h('td', {}, hold.ends_at ? time(hold.ends_at) : 'Until lifted'),
      h(
        'td',
        {},
        holdActorName(hold.placed_by, hold),
        h('span', { class: 'since' }, ' on ', time(hold.placed_at)),
      ),
      h(
        'td',
        {},
        hold.review_at ? time(hold.review_at) : '—',
        reviewDue ? h('span', { class: 'badge badge-due' }, 'Due') : null,
      ),
      h('td', {}, lift),
    );
  });
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'holds' },
      h('caption', {}, 'Active, scheduled and past holds, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Reason code'),
          h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col' }, 'Source'),
          h('th', { scope: 'col' }, 'Reason'),
          h('th', { scope: 'col' }, 'From'),
          h('th', { scope: 'col' }, 'Until'),
          h('th', { scope: 'col' }, 'Placed by'),
          h('th', { scope: 'col' }, 'Review'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}
