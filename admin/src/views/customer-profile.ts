import { api, ApiError, DEFAULT_REASON_CODES, errorMessage, roleAtLeast } from '../api';
import type {
  AuditEntry,
  Customer,
  CustomerNotification,
  Hold,
  Invoice,
  Note,
  Page,
  Subscription,
} from '../api';
import { formatMoney, moneyInputValue, parseMoney } from '../money';
import { formatTime, h, pageHeading, replaceChildren, statusBadge, time } from '../dom';
import type { Child } from '../dom';
import {
  actorName,
  describeHold,
  isActiveAt,
  nextBoundary,
  placedByRules,
  reasonCodeLabel,
  renderHolds,
  startOfUtcDay,
  utcDay,
} from './holds';
import type { Shell } from './shell';

const REASON_MAX = 1000;
const NOTE_MAX = 5000;
/** How often an open profile asks again, for changes made elsewhere or by the clock. */
const POLL_MS = 3000;
/** After a hold's start or end, the service has answered the new status for a moment. */
const BOUNDARY_MARGIN_MS = 300;
/** Beyond this the poll is soon enough, and setTimeout could not wait that long anyway. */
const BOUNDARY_HORIZON_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const customerLabel = (customer: Customer) => customer.name ?? customer.email;

/**
 * One customer: details, its status with the one Disable/Enable button (for customer_support and
 * above), its holds (each with Lift), notes, subscriptions and its audit trail. While open, it
 * asks the service again every few seconds and just after each hold's start or end, so the badge
 * turns when a scheduled hold starts without anyone reloading.
 */
export async function customerProfileView(
  customerId: string,
  shell: Shell,
): Promise<{ element: HTMLElement; title: string }> {
  let customer: Customer;
  try {
    customer = await api.customer(customerId);
  } catch (error) {
    shell.showError('Could not load the customer', error);
    const missing = error instanceof ApiError && (error.status === 404 || error.status === 400);
    return {
      element: h(
        'section',
        { class: 'view' },
        backLink(),
        pageHeading(missing ? 'Customer not found' : 'Customer not loaded'),
        h(
          'p',
          {},
          missing
            ? 'There is no customer with this id. It may have been mistyped.'
            : 'The customer could not be loaded. Try again in a moment.',
        ),
      ),
      title: 'Customer not found',
    };
  }

  const canAct = roleAtLeast(shell.me.role, 'customer_support');
  // Payments and the dunning exemption: account managers and above, as the service checks.
  const canManage = roleAtLeast(shell.me.role, 'account_manager');
  const heading = pageHeading(customerLabel(customer));
  const statusLine = h('p', { class: 'status-line' });
  const details = h('dl', { class: 'details' });
  const notesList = h('div', { class: 'notes' });
  const holdsBox = h('div', {}, h('p', {}, 'Loading holds…'));
  const holdsHeading = h('h2', { id: 'holds-heading', tabindex: -1 }, 'Holds');
  const subscriptionsBox = h('div', {}, h('p', {}, 'Loading subscriptions…'));
  const auditBox = h('div', {}, h('p', {}, 'Loading the audit trail…'));
  const notificationsBox = h('div', {}, h('p', {}, 'Loading the customer emails…'));
  const invoicesBox = h('div', {}, h('p', {}, 'Loading invoices…'));
  const invoicesHeading = h('h2', { id: 'invoices-heading', tabindex: -1 }, 'Invoices and dunning');

  function renderCustomer(): void {
    heading.textContent = customerLabel(customer);
    replaceChildren(
      statusLine,
      'Status: ',
      statusBadge(customer.status, { id: 'customer-status' }),
      customer.status === 'disabled' && customer.disabled_at
        ? h('span', { class: 'since' }, ' Disabled since ', time(customer.disabled_at))
        : null,
      customer.status === 'enabled' && firstScheduled()
        ? h('span', { class: 'since' }, ' A hold starts ', time(firstScheduled() as string))
        : null,
    );
    const rows: [string, Child][] = [
      ['Email', customer.email],
      ['Name', customer.name ?? '—'],
      ['Reference', customer.reference ?? '—'],
      ['External reference', customer.external_reference ?? '—'],
      ['Billing', customer.billing_paused ? 'Paused' : 'Running'],
    ];
    if (customer.status === 'disabled') {
      rows.push(['Disabled since', customer.disabled_at ? time(customer.disabled_at) : '—']);
      rows.push(['Reason for disabling', customer.disabled_reason ?? 'None given']);
    }
    rows.push([
      'Dunning',
      customer.dunning_exempt
        ? 'Exempt: never held by the dunning rules'
        : 'The dunning rules apply',
    ]);
    rows.push(['Created', time(customer.created_at)], ['Last changed', time(customer.updated_at)]);
    exemptBox.checked = customer.dunning_exempt === true;
    replaceChildren(
      details,
      rows.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
    );
  }

  /** When the earliest scheduled hold starts, if one is. */
  function firstScheduled(): string | null {
    const now = Date.now();
    const starts = (customer.holds ?? [])
      .map((hold) => hold.starts_at)
      .filter((at) => Date.parse(at) > now)
      .sort((a, b) => Date.parse(a) - Date.parse(b));
    return starts[0] ?? null;
  }

  // --- the actions area: exactly one button, named for what it will do
  const reason = h('textarea', {
    id: 'status-reason',
    name: 'reason',
    rows: 2,
    maxlength: REASON_MAX,
    'aria-describedby': 'status-reason-hint',
  });
  const actionButton = h('button', { type: 'button', id: 'status-action' });
  let busy = false;

  function renderActionButton(): void {
    const disabling = customer.status === 'enabled';
    actionButton.textContent = disabling ? 'Disable' : 'Enable';
    actionButton.className = disabling ? 'button-danger' : '';
  }

  // Disable's options live in its dialog, so that the one-click flow and its Tab order stay as
  // they were: leaving them as they are places a manual hold from now until lifted.
  const reasonCodeOptions = (codes: readonly string[]): HTMLElement[] => [
    h('option', { value: '' }, 'Other (the default)'),
    ...codes
      .filter((code) => code !== 'other')
      .map((code) => h('option', { value: code }, reasonCodeLabel(code))),
  ];
  const reasonCode = h(
    'select',
    { id: 'disable-reason-code', name: 'reason_code' },
    reasonCodeOptions(DEFAULT_REASON_CODES),
  );
  // "Notify the customer" is ticked by default when the service sends customer emails, which
  // only the service knows: until it has said so, the box stays unticked and says so.
  let customerEmails: boolean | null = null;
  const notify = h('input', {
    id: 'disable-notify',
    name: 'notify_customer',
    type: 'checkbox',
    'aria-describedby': 'disable-notify-hint',
  });
  const notifyHint = h('p', { id: 'disable-notify-hint', class: 'hint' });
  function renderNotifyDefault(): void {
    notify.checked = customerEmails === true;
    notifyHint.textContent =
      customerEmails === false
        ? 'This service sends no customer emails (SMTP_URL is not set): nothing is sent either way.'
        : 'Emails the customer the reason code’s customer text (never your reason) when the hold starts, or a warning now if it starts later, and again when it is enabled.';
  }
  renderNotifyDefault();
  const notifyField = h(
    'div',
    { class: 'field notify-field' },
    notify,
    h('label', { for: notify.id }, 'Notify the customer'),
    notifyHint,
  );
  // The service's own list, once it answers; the defaults stand in until then (or if it fails).
  api.reasonCodes().then(
    ({ reason_codes, customer_emails }) => {
      reasonCode.replaceChildren(...reasonCodeOptions(reason_codes));
      customerEmails = customer_emails;
      renderNotifyDefault();
    },
    () => undefined,
  );
  const startsDay = h('input', {
    id: 'disable-starts',
    name: 'starts',
    type: 'date',
    'aria-describedby': 'disable-starts-hint',
  });
  const untilDay = h('input', {
    id: 'disable-until',
    name: 'until',
    type: 'date',
    'aria-describedby': 'disable-until-hint',
  });
  // Three choices, not a checkbox: "as the service is set" must stay expressible, since the
  // page cannot know BILLING_PAUSE_ON_DISABLE.
  const billing = h(
    'select',
    { id: 'disable-billing', name: 'pause_billing' },
    h('option', { value: '' }, 'As the service is set (the default)'),
    h('option', { value: 'pause' }, 'Pause billing'),
    h('option', { value: 'keep' }, 'Keep billing running'),
  );
  const disableOptions = h(
    'fieldset',
    { class: 'options' },
    h('legend', {}, 'Options (all optional)'),
    h('div', { class: 'field' }, h('label', { for: reasonCode.id }, 'Reason code'), reasonCode),
    h('div', { class: 'field' }, h('label', { for: billing.id }, 'Billing'), billing),
    h(
      'div',
      { class: 'field' },
      h('label', { for: startsDay.id }, 'Starts'),
      startsDay,
      h(
        'p',
        { id: 'disable-starts-hint', class: 'hint' },
        'Empty or today: at once. A later day: at 00:00 UTC that day; until then the customer stays enabled.',
      ),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: untilDay.id }, 'Until'),
      untilDay,
      h(
        'p',
        { id: 'disable-until-hint', class: 'hint' },
        'Empty: until someone enables it. A day: access returns at 00:00 UTC that day.',
      ),
    ),
  );

  function resetDisableOptions(): void {
    reasonCode.value = '';
    startsDay.value = '';
    untilDay.value = '';
    billing.value = '';
    renderNotifyDefault();
  }

  // Both changes ask first: the button changes meaning after each one, so a stray Enter or a
  // double click must never change the status unasked.
  const disableDialog = confirmationDialog({
    id: 'disable-dialog',
    confirm: 'Disable customer',
    confirmClass: 'button-danger',
    warning: [
      h('strong', {}, 'Inform the customer first.'),
      ' Tell them that their access is being disabled, and why, before you confirm.',
    ],
    consequences: [
      'It takes effect at once, or on the day it starts: the customer’s own API keys are refused and the limits API reports it disabled.',
      'Its subscriptions stay but cannot be changed; billing is paused unless the service is set otherwise or you choose below.',
      'Nothing is deleted: it can be enabled again at any time.',
    ],
    fields: [notifyField, disableOptions],
    onConfirm: () => void changeStatus('disable'),
    onCancel: () => actionButton.focus(),
  });
  const enableDialog = confirmationDialog({
    id: 'enable-dialog',
    confirm: 'Enable customer',
    warning: [
      h('strong', {}, 'Check why it was disabled first.'),
      ' Enable it only once that is settled.',
    ],
    consequences: [
      'It takes effect at once: the customer’s own API keys work again and the limits API reports its grants.',
      'It lifts every active and scheduled hold, whatever placed it.',
      'Its subscriptions can be changed again and billing resumes.',
      'Why it was disabled stays in its notes and audit trail.',
    ],
    onConfirm: () => void changeStatus('enable'),
    onCancel: () => actionButton.focus(),
  });

  function openStatusDialog(): void {
    const disabling = customer.status === 'enabled';
    const title = `${disabling ? 'Disable' : 'Enable'} ${customerLabel(customer)}?`;
    if (disabling) {
      // A day in the past would be refused by the service: the fields offer none.
      const today = utcDay(Date.now());
      startsDay.min = today;
      untilDay.min = utcDay(Date.now() + DAY_MS);
      disableDialog.open(title, reason.value.trim());
      return;
    }
    enableDialog.open(title, reason.value.trim(), liftList());
  }

  /** What Enable will lift: every active and scheduled hold of the customer. */
  function liftList(): HTMLElement {
    const holds = customer.holds ?? [];
    const now = Date.now();
    if (holds.length === 0) return h('p', {}, 'The service lists no holds to lift.');
    return h(
      'div',
      { class: 'lift-list' },
      h(
        'p',
        { id: 'enable-dialog-holds' },
        holds.length === 1 ? 'It lifts this hold:' : `It lifts these ${holds.length} holds:`,
      ),
      h(
        'ul',
        { 'aria-labelledby': 'enable-dialog-holds' },
        holds.map((hold) =>
          h(
            'li',
            {},
            describeHold(hold, now),
            reasonsById.get(hold.id) ? [': ', h('q', {}, reasonsById.get(hold.id))] : null,
          ),
        ),
      ),
    );
  }

  /** Disable with its options: a later start places a scheduled hold instead. */
  async function disableWithOptions(given: string | undefined): Promise<string> {
    const code = reasonCode.value || undefined;
    const pause = billing.value === '' ? undefined : billing.value === 'pause';
    const notifyCustomer = notify.checked;
    const endsAt = untilDay.value ? startOfUtcDay(untilDay.value) : undefined;
    const startsAt =
      startsDay.value && startsDay.value > utcDay(Date.now())
        ? startOfUtcDay(startsDay.value)
        : undefined;
    const name = customerLabel(customer);
    if (startsAt) {
      await api.placeHold(customer.id, {
        reason_code: code ?? 'other',
        reason: given,
        starts_at: startsAt,
        ends_at: endsAt,
        pause_billing: pause,
        notify_customer: notifyCustomer,
      });
      const updated = await api.customer(customer.id);
      if (shell.isCurrent()) customer = updated;
      return `A hold on ${name} starts ${formatTime(startsAt)}${endsAt ? ` and ends ${formatTime(endsAt)}` : ''}.`;
    }
    const updated = await api.disable(customer.id, {
      reason: given,
      reason_code: code,
      pause_billing: pause,
      ends_at: endsAt,
      notify_customer: notifyCustomer,
    });
    if (shell.isCurrent()) customer = updated;
    return endsAt ? `${name} is disabled until ${formatTime(endsAt)}.` : `${name} is disabled.`;
  }

  async function changeStatus(change: 'disable' | 'enable'): Promise<void> {
    if (busy) return;
    busy = true;
    actionButton.setAttribute('aria-disabled', 'true');
    shell.clearMessages();
    const given = reason.value.trim() || undefined;
    let done = false;
    try {
      let message: string;
      if (change === 'disable') {
        message = await disableWithOptions(given);
      } else {
        const updated = await api.enable(customer.id, given);
        if (shell.isCurrent()) customer = updated;
        message = `${customerLabel(updated)} is enabled.`;
      }
      if (!shell.isCurrent()) return;
      reason.value = '';
      if (change === 'disable') resetDisableOptions();
      afterChange();
      // Focus goes to the notice, not back to the button, which now does the opposite.
      shell.announce(message, { focus: true });
      done = true;
      void loadSubscriptions();
    } catch (error) {
      shell.showError(
        change === 'disable' ? 'Could not disable the customer' : 'Could not enable the customer',
        error,
      );
    } finally {
      busy = false;
      actionButton.removeAttribute('aria-disabled');
      if (!done && shell.isCurrent()) actionButton.focus();
    }
  }

  actionButton.addEventListener('click', () => {
    if (!busy) openStatusDialog();
  });

  /** The customer has just changed here: show it, and what follows from it. */
  function afterChange(): void {
    renderCustomer();
    renderActionButton();
    seen = signature(customer);
    scheduleBoundary();
    void loadHolds();
    void loadNotes();
    void loadAudit();
    void loadNotifications();
  }

  // --- dunning: the exemption, and payments of open invoices (account managers)
  const exemptBox = h('input', {
    type: 'checkbox',
    id: 'dunning-exempt',
    name: 'dunning_exempt',
    'aria-describedby': 'dunning-exempt-hint',
  });
  exemptBox.addEventListener('change', () => void changeExempt());
  const exemptField = canManage
    ? h(
        'div',
        { class: 'field' },
        h(
          'div',
          { class: 'toggle' },
          exemptBox,
          h('label', { for: exemptBox.id }, 'Dunning exempt'),
        ),
        h(
          'p',
          { id: 'dunning-exempt-hint', class: 'hint' },
          'Never held by the dunning rules (they still send warnings). Turning it on lifts the hold they placed, if any; turning it off lets them act again at once.',
        ),
      )
    : null;

  async function changeExempt(): Promise<void> {
    const wanted = exemptBox.checked;
    if (busy) {
      exemptBox.checked = !wanted;
      return;
    }
    busy = true;
    shell.clearMessages();
    const wasStatus = customer.status;
    try {
      const updated = await api.updateCustomer(customer.id, { dunning_exempt: wanted });
      if (!shell.isCurrent()) return;
      customer = updated;
      afterChange();
      const name = customerLabel(customer);
      const status = customer.status !== wasStatus ? ` ${name} is ${customer.status} now.` : '';
      // Focus stays on the checkbox: the page around it did not move.
      shell.announce(
        wanted
          ? `${name} is dunning exempt: the dunning rules will not hold it.${status}`
          : `${name} is no longer dunning exempt.${status}`,
      );
    } catch (error) {
      exemptBox.checked = !wanted;
      shell.showError('Could not change the dunning exemption', error);
    } finally {
      busy = false;
    }
  }

  let payKey: string | null = null;
  const payDialog = paymentDialog({
    onConfirm: (invoice, amount, reference) => void recordPayment(invoice, amount, reference),
    onCancel: () => focusPayButton(),
  });

  function focusPayButton(): void {
    const button = payKey
      ? invoicesBox.querySelector<HTMLElement>(`[data-focus-key="${payKey}"]`)
      : null;
    (button ?? invoicesHeading).focus();
  }

  function openPayDialog(invoice: Invoice): void {
    if (busy) return;
    payKey = `pay-${invoice.id}`;
    payDialog.open(invoice);
  }

  async function recordPayment(invoice: Invoice, amount: number, reference: string): Promise<void> {
    if (busy) return;
    busy = true;
    shell.clearMessages();
    const wasStatus = customer.status;
    let done = false;
    try {
      const payment = await api.recordPayment(invoice.id, amount, reference || undefined);
      const updated = await api.customer(customer.id);
      if (!shell.isCurrent()) return;
      customer = updated;
      afterChange();
      void loadInvoices();
      const paid = payment.invoice;
      const left = paid.amount_due - paid.amount_paid;
      const name = customerLabel(customer);
      shell.announce(
        `Payment of ${formatMoney(amount, invoice.currency)} recorded for ${invoice.number}. ` +
          (paid.status === 'paid'
            ? 'The invoice is paid.'
            : `${formatMoney(left, invoice.currency)} remains due.`) +
          (customer.status !== wasStatus ? ` ${name} is ${customer.status} now.` : ''),
        { focus: true },
      );
      done = true;
    } catch (error) {
      shell.showError('Could not record the payment', error);
      // Paid or voided meanwhile by someone else: show it as it is.
      if (error instanceof ApiError && error.status === 409) void loadInvoices();
    } finally {
      busy = false;
      if (!done && shell.isCurrent()) focusPayButton();
    }
  }

  // --- lifting one hold: the others stay, and so may the customer's disabled status
  /** The reasons of the holds on the table, for the Enable dialog (the customer lists none). */
  const reasonsById = new Map<string, string>();
  let liftKey: string | null = null;
  const liftDialog = liftHoldDialog({
    onConfirm: (hold, liftReason) => void liftHold(hold, liftReason),
    onCancel: () => focusLiftButton(),
  });

  function focusLiftButton(): void {
    const button = liftKey
      ? holdsBox.querySelector<HTMLElement>(`[data-focus-key="${liftKey}"]`)
      : null;
    (button ?? holdsHeading).focus();
  }

  function openLiftDialog(hold: Hold): void {
    if (busy) return;
    liftKey = `lift-${hold.id}`;
    const now = Date.now();
    const others = (customer.holds ?? []).filter((other) => other.id !== hold.id);
    const othersActive = others.filter((other) => isActiveAt(other, now)).length;
    let outcome: string;
    if (hold.state === 'scheduled') {
      outcome = 'It has not started: lifting cancels it.';
    } else if (othersActive > 0) {
      outcome = `${customerLabel(customer)} stays disabled: ${othersActive === 1 ? 'another hold is' : `${othersActive} other holds are`} active.`;
    } else {
      outcome = `${customerLabel(customer)} is enabled at once: no other hold is active.`;
    }
    liftDialog.open(hold, `Lift this hold on ${customerLabel(customer)}?`, [
      describeHold(hold, now),
      outcome,
      ...(others.length > othersActive
        ? ['Scheduled holds stay scheduled: lift them on their own.']
        : []),
      ...(placedByRules(hold)
        ? [
            'The dunning rules placed it: they will not hold the customer again for the same invoices, only for another one that becomes as late.',
          ]
        : []),
    ]);
  }

  async function liftHold(hold: Hold, liftReason: string): Promise<void> {
    if (busy) return;
    busy = true;
    shell.clearMessages();
    let done = false;
    try {
      await api.liftHold(hold.id, liftReason || undefined);
      const updated = await api.customer(customer.id);
      if (!shell.isCurrent()) return;
      customer = updated;
      afterChange();
      const name = customerLabel(customer);
      const what = `The ${reasonCodeLabel(hold.reason_code)} hold is lifted.`;
      // The Lift button is gone: focus goes to the notice, as after Disable and Enable.
      shell.announce(
        customer.status === 'disabled'
          ? `${what} ${name} stays disabled: another hold is active.`
          : `${what} ${name} is enabled.`,
        { focus: true },
      );
      done = true;
    } catch (error) {
      shell.showError('Could not lift the hold', error);
      // A hold lifted meanwhile by someone else shows as such.
      if (error instanceof ApiError && error.status === 409) void loadHolds();
    } finally {
      busy = false;
      if (!done && shell.isCurrent()) focusLiftButton();
    }
  }

  // --- the clock's part: a scheduled hold starts, a hold ends, or someone else changed it
  const signature = (c: Customer) =>
    JSON.stringify([
      c.status,
      c.disabled_at,
      c.disabled_reason,
      c.billing_paused,
      c.version,
      c.holds ?? null,
    ]);
  let seen = signature(customer);
  let refreshing = false;
  /** A boundary passed since the holds table was loaded: its states are out of date. */
  let holdsStale = false;
  let boundaryTimer = 0;
  const pollTimer = window.setInterval(() => void refresh(), POLL_MS);

  function stopped(): boolean {
    if (shell.isCurrent()) return false;
    window.clearInterval(pollTimer);
    window.clearTimeout(boundaryTimer);
    return true;
  }

  function scheduleBoundary(): void {
    window.clearTimeout(boundaryTimer);
    const next = nextBoundary(customer.holds ?? [], Date.now());
    if (next === null || next - Date.now() > BOUNDARY_HORIZON_MS) return;
    boundaryTimer = window.setTimeout(
      () => {
        holdsStale = true;
        void refresh();
      },
      next - Date.now() + BOUNDARY_MARGIN_MS,
    );
  }

  async function refresh(): Promise<void> {
    if (stopped() || refreshing || busy || document.hidden) return;
    refreshing = true;
    try {
      const updated = await api.customer(customer.id);
      if (stopped() || busy) return;
      const changed = signature(updated) !== seen;
      // An email goes out a moment after its change: follow it until it is sent or failed.
      if (changed || notificationsPending) void loadNotifications();
      if (!changed && !holdsStale) return;
      const wasStatus = customer.status;
      if (changed) {
        customer = updated;
        seen = signature(updated);
        renderCustomer();
        renderActionButton();
        scheduleBoundary();
        // A hold placed or lifted elsewhere wrote its reason into the notes too.
        void loadNotes();
        void loadAudit();
        // A payment or a void recorded elsewhere may be why.
        void loadInvoices();
      }
      holdsStale = false;
      void loadHolds();
      if (customer.status !== wasStatus) {
        // Said politely, without moving focus: nobody here asked for it.
        shell.announce(`${customerLabel(customer)} is now ${customer.status}.`);
      }
    } catch {
      // A missed poll is not worth an alert: the next one asks again, and a 401 has already
      // sent the user to sign in.
    } finally {
      refreshing = false;
    }
  }

  const actions = h(
    'section',
    { class: 'card actions', 'aria-labelledby': 'actions-heading' },
    h('h2', { id: 'actions-heading' }, 'Customer actions'),
    canAct
      ? [
          h(
            'div',
            { class: 'field' },
            h('label', { for: reason.id }, 'Reason (optional)'),
            reason,
            h(
              'p',
              { id: 'status-reason-hint', class: 'hint' },
              `Stored with the hold (or the lift) and added to the internal notes. At most ${REASON_MAX} characters.`,
            ),
          ),
          actionButton,
        ]
      : h(
          'p',
          {},
          `Your role (${shell.me.role.replace('_', ' ')}) can see this customer’s status but cannot disable or enable it.`,
        ),
  );

  // --- holds, internal notes, subscriptions and the audit trail: each a list with pages of its own
  const loadHolds = pagedList(holdsBox, {
    fetch: (cursor) => api.holds(customer.id, cursor),
    render: (holds) => {
      for (const hold of holds) if (hold.reason) reasonsById.set(hold.id, hold.reason);
      return renderHolds(holds, { role: shell.me.role, onLift: (hold) => openLiftDialog(hold) });
    },
    failed: 'Could not load the holds',
    more: 'Show older holds',
    isCurrent: () => shell.isCurrent(),
    focusLost: () => holdsHeading.focus(),
  });
  const loadNotes = pagedList(notesList, {
    fetch: (cursor) => api.notes(customer.id, cursor),
    render: renderNotes,
    failed: 'Could not load the notes',
    more: 'Show older notes',
    isCurrent: () => shell.isCurrent(),
  });
  const loadSubscriptions = pagedList(subscriptionsBox, {
    fetch: (cursor) => api.subscriptions(customer.id, cursor),
    render: renderSubscriptions,
    failed: 'Could not load subscriptions',
    more: 'Show more subscriptions',
    isCurrent: () => shell.isCurrent(),
  });
  /** Whether the emails shown include one not yet sent or failed. */
  let notificationsPending = false;
  const loadNotifications = pagedList(notificationsBox, {
    fetch: (cursor) => api.notifications(customer.id, cursor),
    render: (notifications) => {
      notificationsPending = notifications.some((n) => n.state === 'pending');
      return renderNotifications(notifications);
    },
    failed: 'Could not load the customer emails',
    more: 'Show older emails',
    isCurrent: () => shell.isCurrent(),
  });
  const loadInvoices = pagedList(invoicesBox, {
    fetch: (cursor) => api.invoices(customer.id, cursor),
    render: (invoices) =>
      renderInvoices(invoices, canManage ? (invoice) => openPayDialog(invoice) : null),
    failed: 'Could not load the invoices',
    more: 'Show older invoices',
    isCurrent: () => shell.isCurrent(),
    focusLost: () => invoicesHeading.focus(),
  });
  const loadAudit = pagedList(auditBox, {
    fetch: (cursor) => api.auditLogs(customer.id, cursor),
    render: renderAudit,
    failed: 'Could not load the audit trail',
    more: 'Show older entries',
    isCurrent: () => shell.isCurrent(),
  });

  const noteBody = h('textarea', {
    id: 'note-body',
    name: 'body',
    rows: 3,
    required: true,
    maxlength: NOTE_MAX,
  });
  let addingNote = false;
  const noteForm = canAct
    ? h(
        'form',
        {
          class: 'note-form',
          'aria-label': 'Add an internal note',
          onsubmit: (event) => {
            event.preventDefault();
            void addNote();
          },
        },
        h('div', { class: 'field' }, h('label', { for: noteBody.id }, 'New note'), noteBody),
        h('button', { type: 'submit' }, 'Add note'),
      )
    : null;

  async function addNote(): Promise<void> {
    const body = noteBody.value.trim();
    if (!body || addingNote) return;
    addingNote = true;
    shell.clearMessages();
    try {
      await api.addNote(customer.id, body);
      if (!shell.isCurrent()) return;
      noteBody.value = '';
      shell.announce('Note added.');
      await loadNotes();
    } catch (error) {
      shell.showError('Could not add the note', error);
    } finally {
      addingNote = false;
    }
  }

  renderCustomer();
  renderActionButton();
  scheduleBoundary();
  void loadHolds();
  void loadNotes();
  void loadSubscriptions();
  void loadNotifications();
  void loadInvoices();
  void loadAudit();

  const element = h(
    'section',
    { class: 'view profile' },
    backLink(),
    heading,
    statusLine,
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'details-heading' },
        h('h2', { id: 'details-heading' }, 'Details'),
        details,
      ),
      actions,
    ),
    h('section', { class: 'card', 'aria-labelledby': holdsHeading.id }, holdsHeading, holdsBox),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'notes-heading' },
      h('h2', { id: 'notes-heading' }, 'Internal notes'),
      noteForm,
      notesList,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'subscriptions-heading' },
      h('h2', { id: 'subscriptions-heading' }, 'Subscriptions'),
      subscriptionsBox,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'notifications-heading' },
      h('h2', { id: 'notifications-heading' }, 'Emails to the customer'),
      notificationsBox,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': invoicesHeading.id },
      invoicesHeading,
      exemptField,
      invoicesBox,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'audit-heading' },
      h('h2', { id: 'audit-heading' }, 'Audit trail'),
      auditBox,
    ),
    disableDialog.element,
    enableDialog.element,
    liftDialog.element,
    payDialog.element,
  );
  return { element, title: customerLabel(customer) };
}

/**
 * A modal confirmation: its title names the change and the customer, a warning, what follows,
 * what it will act on, the reason that will be recorded, and optional fields. Cancel has focus
 * first, so Enter alone never confirms; Escape and Cancel call `onCancel`.
 */
function confirmationDialog(options: {
  id: string;
  confirm: string;
  confirmClass?: string;
  warning: Child[];
  consequences: string[];
  fields?: Child[];
  onConfirm: () => void;
  onCancel: () => void;
}): {
  element: HTMLDialogElement;
  open: (title: string, reason: string, details?: Child) => void;
} {
  const title = h('h2', { id: `${options.id}-title` });
  const detailsBox = h('div', { class: 'dialog-details' });
  const reasonLine = h('p', { class: 'dialog-reason' });
  const element = h(
    'dialog',
    {
      id: options.id,
      'aria-labelledby': title.id,
      'aria-describedby': `${options.id}-warning`,
    },
    h(
      'form',
      { method: 'dialog' },
      title,
      h('p', { id: `${options.id}-warning`, class: 'warning' }, options.warning),
      h(
        'ul',
        {},
        options.consequences.map((text) => h('li', {}, text)),
      ),
      detailsBox,
      reasonLine,
      options.fields ?? null,
      dialogButtons(options.confirm, options.confirmClass),
    ),
  );
  element.addEventListener('close', () => {
    if (element.returnValue === 'confirm') options.onConfirm();
    else options.onCancel();
  });
  return {
    element,
    open(text, reason, details) {
      title.textContent = text;
      replaceChildren(detailsBox, details);
      replaceChildren(
        reasonLine,
        reason ? h('span', {}, 'Reason: ', h('q', {}, reason)) : 'No reason given.',
      );
      element.returnValue = '';
      element.showModal();
    },
  };
}

/**
 * Cancel first and focused, so Enter alone never confirms; it skips validation, so that a
 * half-typed date never keeps the dialog open.
 */
function dialogButtons(confirm: string, confirmClass?: string): HTMLElement {
  return h(
    'div',
    { class: 'button-row' },
    h(
      'button',
      { value: 'cancel', class: 'button-secondary', autofocus: true, formnovalidate: true },
      'Cancel',
    ),
    h('button', { value: 'confirm', class: confirmClass }, confirm),
  );
}

/** Asks before lifting one hold, says what follows for the customer, and takes a reason. */
function liftHoldDialog(options: {
  onConfirm: (hold: Hold, reason: string) => void;
  onCancel: () => void;
}): {
  element: HTMLDialogElement;
  open: (hold: Hold, title: string, lines: string[]) => void;
} {
  const title = h('h2', { id: 'lift-dialog-title' });
  const linesList = h('ul', { id: 'lift-dialog-what' });
  const reason = h('textarea', {
    id: 'lift-reason',
    name: 'reason',
    rows: 2,
    maxlength: REASON_MAX,
    'aria-describedby': 'lift-reason-hint',
  });
  let current: Hold | null = null;
  const element = h(
    'dialog',
    { id: 'lift-dialog', 'aria-labelledby': title.id, 'aria-describedby': linesList.id },
    h(
      'form',
      { method: 'dialog' },
      title,
      linesList,
      h(
        'div',
        { class: 'field' },
        h('label', { for: reason.id }, 'Reason for lifting (optional)'),
        reason,
        h(
          'p',
          { id: 'lift-reason-hint', class: 'hint' },
          `Recorded with the hold, in the audit trail and in the internal notes. At most ${REASON_MAX} characters.`,
        ),
      ),
      dialogButtons('Lift hold'),
    ),
  );
  element.addEventListener('close', () => {
    const hold = current;
    current = null;
    if (element.returnValue === 'confirm' && hold) options.onConfirm(hold, reason.value.trim());
    else options.onCancel();
  });
  return {
    element,
    open(hold, text, lines) {
      current = hold;
      title.textContent = text;
      replaceChildren(
        linesList,
        lines.map((line) => h('li', {}, line)),
      );
      reason.value = '';
      element.returnValue = '';
      element.showModal();
    },
  };
}

function backLink(): HTMLElement {
  return h('p', { class: 'back' }, h('a', { href: '#/customers' }, '← All customers'));
}

/** A part of the page that could not load says so in place; the rest of the page still works. */
function loadError(whatFailed: string, error: unknown): HTMLElement {
  return h('p', { class: 'error-text' }, `${whatFailed}. ${errorMessage(error)}`);
}

/**
 * Fills `box` with the first page of a list, and a button that appends the next page, moving
 * focus to the first new row so keyboard users carry on where the new items start.
 */
function pagedList<T>(
  box: HTMLElement,
  options: {
    fetch: (cursor?: string) => Promise<Page<T>>;
    render: (items: T[]) => HTMLElement;
    failed: string;
    more: string;
    isCurrent: () => boolean;
    /** Where focus goes when a reload removed the element that had it. */
    focusLost?: () => void;
  },
): () => Promise<void> {
  let items: T[] = [];
  const load = async (cursor?: string): Promise<void> => {
    try {
      const page = await options.fetch(cursor);
      if (!options.isCurrent()) return;
      const firstNew = cursor ? items.length : 0;
      items = cursor ? [...items, ...page.data] : page.data;
      // A reload while the user is on one of its buttons gives focus back to the same button.
      const focused = document.activeElement;
      const hadFocus = focused instanceof HTMLElement && box.contains(focused);
      const key = hadFocus ? focused.dataset.focusKey : undefined;
      replaceChildren(box, options.render(items));
      if (hadFocus) {
        const again = key ? box.querySelector<HTMLElement>(`[data-focus-key="${key}"]`) : null;
        if (again) again.focus();
        else options.focusLost?.();
      }
      if (page.next_cursor) {
        const next = page.next_cursor;
        const more = h('button', { type: 'button', class: 'button-secondary more' }, options.more);
        more.addEventListener('click', () => {
          void load(next).then(() => {
            box.querySelectorAll<HTMLElement>('[data-item]')[firstNew + page.data.length]?.focus();
          });
        });
        box.append(more);
      }
    } catch (error) {
      replaceChildren(box, loadError(options.failed, error));
    }
  };
  return () => load();
}

function renderNotes(notes: Note[]): HTMLElement {
  if (notes.length === 0) return h('p', { class: 'empty' }, 'No notes yet.');
  return h(
    'ul',
    { class: 'note-list' },
    notes.map((note) =>
      h(
        'li',
        { tabindex: -1, 'data-item': true },
        h('p', { class: 'note-body' }, note.body),
        h(
          'p',
          { class: 'note-meta' },
          time(note.created_at),
          note.author ? ` · ${actorName(note.author)}` : '',
        ),
      ),
    ),
  );
}

/**
 * Asks for the amount of a payment (in the currency's major units, prefilled with what remains
 * due) and an optional reference. The amount is checked before the dialog closes: a whole number
 * of cents above zero and at most what remains (the service refuses more: no credit balance).
 */
function paymentDialog(options: {
  onConfirm: (invoice: Invoice, amount: number, reference: string) => void;
  onCancel: () => void;
}): { element: HTMLDialogElement; open: (invoice: Invoice) => void } {
  const title = h('h2', { id: 'pay-dialog-title' });
  const summary = h('p', { id: 'pay-dialog-what' });
  const amount = h('input', {
    id: 'payment-amount',
    name: 'amount',
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'payment-amount-hint',
  });
  const amountLabel = h('label', { for: amount.id }, 'Amount');
  const hint = h('p', { id: 'payment-amount-hint', class: 'hint' });
  const reference = h('input', {
    id: 'payment-reference',
    name: 'reference',
    type: 'text',
    maxlength: 200,
    autocomplete: 'off',
  });
  let current: Invoice | null = null;
  let parsed = 0;
  const form = h(
    'form',
    { method: 'dialog' },
    title,
    summary,
    h('div', { class: 'field' }, amountLabel, amount, hint),
    h(
      'div',
      { class: 'field' },
      h('label', { for: reference.id }, 'Reference (optional)'),
      reference,
    ),
    dialogButtons('Record payment'),
  );
  const element = h(
    'dialog',
    { id: 'pay-dialog', 'aria-labelledby': title.id, 'aria-describedby': summary.id },
    form,
  );
  const remainingOf = (invoice: Invoice) => invoice.amount_due - invoice.amount_paid;
  const showHint = (invoice: Invoice, problem?: string) => {
    hint.textContent =
      problem ??
      `At most ${formatMoney(remainingOf(invoice), invoice.currency)}, what remains due. A part payment keeps the invoice open.`;
    hint.className = problem ? 'hint error-text' : 'hint';
    if (problem) amount.setAttribute('aria-invalid', 'true');
    else amount.removeAttribute('aria-invalid');
  };
  form.addEventListener('submit', (event) => {
    const submitter = event.submitter as HTMLButtonElement | null;
    if (!current || submitter?.value !== 'confirm') return;
    const value = parseMoney(amount.value, current.currency);
    const remaining = remainingOf(current);
    let problem: string | undefined;
    if (value === null)
      problem = `Enter an amount such as ${moneyInputValue(remaining, current.currency)}.`;
    else if (value <= 0) problem = 'Enter an amount above zero.';
    else if (value > remaining)
      problem = `That is more than remains due (${formatMoney(remaining, current.currency)}): there is no credit balance.`;
    if (problem !== undefined) {
      event.preventDefault();
      showHint(current, problem);
      amount.focus();
      return;
    }
    parsed = value as number;
  });
  element.addEventListener('close', () => {
    const invoice = current;
    current = null;
    if (element.returnValue === 'confirm' && invoice) {
      options.onConfirm(invoice, parsed, reference.value.trim());
    } else options.onCancel();
  });
  return {
    element,
    open(invoice) {
      current = invoice;
      title.textContent = `Record a payment of ${invoice.number}`;
      summary.textContent =
        `${formatMoney(invoice.amount_due, invoice.currency)} due ${formatTime(invoice.due_at)}; ` +
        `${formatMoney(invoice.amount_paid, invoice.currency)} paid so far.` +
        (invoice.days_overdue > 0 ? ` ${invoice.days_overdue} days overdue.` : '');
      amountLabel.textContent = `Amount (${invoice.currency})`;
      amount.value = moneyInputValue(remainingOf(invoice), invoice.currency);
      reference.value = '';
      showHint(invoice);
      element.returnValue = '';
      element.showModal();
    },
  };
}

function invoiceState(invoice: Invoice): HTMLElement {
  if (invoice.status === 'paid') {
    return h(
      'span',
      {},
      h('span', { class: 'badge badge-invoice-paid' }, 'Paid'),
      invoice.paid_at ? h('span', { class: 'since' }, ' on ', time(invoice.paid_at)) : null,
    );
  }
  if (invoice.status === 'void') {
    return h(
      'span',
      {},
      h('span', { class: 'badge badge-invoice-void' }, 'Void'),
      invoice.void_reason
        ? h('span', { class: 'since' }, ': ', h('q', {}, invoice.void_reason))
        : null,
    );
  }
  // The service's count, on its clock: a whole day past due.
  const overdue = invoice.days_overdue > 0;
  return h(
    'span',
    { class: `badge ${overdue ? 'badge-invoice-overdue' : 'badge-invoice-open'}` },
    overdue ? 'Overdue' : 'Open',
  );
}

/**
 * The customer's invoices, newest first: state, days overdue, what is paid, and for account
 * managers a "Record payment" button on each open one.
 */
function renderInvoices(
  invoices: Invoice[],
  onPay: ((invoice: Invoice) => void) | null,
): HTMLElement {
  if (invoices.length === 0) return h('p', { class: 'empty' }, 'No invoices yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'invoices' },
      h('caption', {}, 'Invoices, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Invoice'),
          h('th', { scope: 'col' }, 'Period'),
          h('th', { scope: 'col', class: 'amount' }, 'Amount'),
          h('th', { scope: 'col' }, 'Due'),
          h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col', class: 'amount' }, 'Days overdue'),
          h('th', { scope: 'col', class: 'amount' }, 'Paid'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        {},
        invoices.map((invoice) => {
          let pay: HTMLButtonElement | null = null;
          if (onPay && invoice.status === 'open') {
            pay = h(
              'button',
              {
                type: 'button',
                class: 'button-secondary button-small',
                'data-focus-key': `pay-${invoice.id}`,
                'aria-label': `Record a payment of ${invoice.number}`,
              },
              'Record payment',
            );
            pay.addEventListener('click', () => onPay(invoice));
          }
          return h(
            'tr',
            { 'data-invoice-id': invoice.id, 'data-status': invoice.status },
            h('th', { scope: 'row', tabindex: -1, 'data-item': true }, invoice.number),
            h('td', {}, time(invoice.period_start), ' to ', time(invoice.period_end)),
            h('td', { class: 'amount' }, formatMoney(invoice.amount_due, invoice.currency)),
            h('td', {}, time(invoice.due_at)),
            h('td', {}, invoiceState(invoice)),
            h(
              'td',
              { class: 'amount', 'data-days-overdue': invoice.days_overdue },
              invoice.status === 'open' ? String(invoice.days_overdue) : '—',
            ),
            h('td', { class: 'amount' }, formatMoney(invoice.amount_paid, invoice.currency)),
            h('td', {}, pay),
          );
        }),
      ),
    ),
  );
}

function renderSubscriptions(subscriptions: Subscription[]): HTMLElement {
  if (subscriptions.length === 0) return h('p', { class: 'empty' }, 'No subscriptions.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Plan'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Current period'),
          h('th', { scope: 'col' }, 'Since'),
        ),
      ),
      h(
        'tbody',
        {},
        subscriptions.map((subscription) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row', tabindex: -1, 'data-item': true }, subscription.plan_code),
            h(
              'td',
              {},
              subscription.status,
              subscription.cancelled_at
                ? h('span', { class: 'since' }, ' on ', time(subscription.cancelled_at))
                : null,
            ),
            h(
              'td',
              {},
              time(subscription.current_period_start),
              ' to ',
              time(subscription.current_period_end),
            ),
            h('td', {}, time(subscription.created_at)),
          ),
        ),
      ),
    ),
  );
}

const NOTIFICATION_KINDS: Record<string, string> = {
  hold_scheduled: 'Hold scheduled (warning)',
  customer_disabled: 'Disabled',
  customer_enabled: 'Enabled',
  invoice_overdue: 'Invoice overdue',
};

const NOTIFICATION_STATES: Record<CustomerNotification['state'], string> = {
  pending: 'Pending',
  sent: 'Sent',
  failed: 'Failed',
};

/** What the customer was told, and whether it went out: the service retries until sent or failed. */
function renderNotifications(notifications: CustomerNotification[]): HTMLElement {
  if (notifications.length === 0) return h('p', { class: 'empty' }, 'No emails to this customer.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'notifications' },
      h('caption', {}, 'Emails about its status, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Kind'),
          h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col' }, 'Subject'),
          h('th', { scope: 'col' }, 'Sent'),
          h('th', { scope: 'col' }, 'Attempts'),
        ),
      ),
      h(
        'tbody',
        {},
        notifications.map((notification) =>
          h(
            'tr',
            { 'data-notification-id': notification.id, 'data-state': notification.state },
            h(
              'th',
              { scope: 'row', tabindex: -1, 'data-item': true },
              NOTIFICATION_KINDS[notification.kind] ?? notification.kind,
            ),
            h(
              'td',
              {},
              h(
                'span',
                { class: `badge badge-email-${notification.state}` },
                NOTIFICATION_STATES[notification.state] ?? notification.state,
              ),
              notification.state !== 'sent' && notification.last_error
                ? h('span', { class: 'since' }, ` ${notification.last_error}`)
                : null,
            ),
            h('td', {}, notification.subject),
            h(
              'td',
              {},
              notification.sent_at
                ? time(notification.sent_at)
                : notification.next_attempt_at
                  ? ['Next try ', time(notification.next_attempt_at)]
                  : '—',
            ),
            h('td', {}, notification.attempts),
          ),
        ),
      ),
    ),
  );
}

const ACTIONS: Record<string, string> = {
  'customer.disabled': 'Disabled',
  'customer.enabled': 'Enabled',
  'hold.placed': 'Hold placed',
  'hold.lifted': 'Hold lifted',
  'hold.expired': 'Hold expired',
  'hold.reviewed': 'Hold reviewed',
  'subscription.created': 'Subscribed',
  'subscription.changed': 'Plan changed',
  'subscription.cancelled': 'Subscription cancelled',
  'api_key.created': 'API key created',
  'api_key.revoked': 'API key revoked',
};

/** "enabled → disabled" for a status change, "scheduled → lifted" for a hold's. */
function change(entry: AuditEntry): string {
  const before = entry.before?.status ?? entry.before?.state;
  const after = entry.after?.status ?? entry.after?.state;
  if (!before && !after) return '—';
  return `${before ?? 'none'} → ${after ?? '?'}`;
}

function renderAudit(entries: AuditEntry[]): HTMLElement {
  if (entries.length === 0) return h('p', { class: 'empty' }, 'No status changes recorded yet.');
  // A transition made by the clock is recorded a moment after it took effect: show the instant.
  const when = (entry: AuditEntry) => entry.effective_at ?? entry.created_at;
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'audit' },
      h('caption', {}, 'Status and hold changes, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'When'),
          h('th', { scope: 'col' }, 'Action'),
          h('th', { scope: 'col' }, 'By'),
          h('th', { scope: 'col' }, 'Reason'),
          h('th', { scope: 'col' }, 'Change'),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((entry) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row', tabindex: -1, 'data-item': true }, time(when(entry))),
            h('td', {}, ACTIONS[entry.action] ?? entry.action),
            h('td', {}, actorName(entry.actor)),
            h('td', {}, entry.reason ?? '—'),
            h('td', {}, change(entry)),
          ),
        ),
      ),
    ),
  );
}
