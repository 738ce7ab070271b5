import { api, ApiError, errorMessage, roleAtLeast } from '../api';
import type { Actor, AuditEntry, Customer, Note, Page, Subscription } from '../api';
import { h, pageHeading, replaceChildren, statusBadge, time } from '../dom';
import type { Child } from '../dom';
import type { Shell } from './shell';

const REASON_MAX = 1000;
const NOTE_MAX = 5000;

const customerLabel = (customer: Customer) => customer.name ?? customer.email;

/**
 * One customer: details, its status with the one Disable/Enable button (for customer_support and
 * above), notes, subscriptions and its audit trail.
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
  const heading = pageHeading(customerLabel(customer));
  const statusLine = h('p', { class: 'status-line' });
  const details = h('dl', { class: 'details' });
  const notesList = h('div', { class: 'notes' });
  const subscriptionsBox = h('div', {}, h('p', {}, 'Loading subscriptions…'));
  const auditBox = h('div', {}, h('p', {}, 'Loading the audit trail…'));

  function renderCustomer(): void {
    heading.textContent = customerLabel(customer);
    replaceChildren(
      statusLine,
      'Status: ',
      statusBadge(customer.status, { id: 'customer-status' }),
      customer.status === 'disabled' && customer.disabled_at
        ? h('span', { class: 'since' }, ' Disabled since ', time(customer.disabled_at))
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
    rows.push(['Created', time(customer.created_at)], ['Last changed', time(customer.updated_at)]);
    replaceChildren(
      details,
      rows.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
    );
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
      'It takes effect at once: the customer’s own API keys are refused and the limits API reports it disabled.',
      'Its subscriptions stay but cannot be changed; billing is paused unless the service is set otherwise.',
      'Nothing is deleted: it can be enabled again at any time.',
    ],
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
      'Its subscriptions can be changed again and billing resumes.',
      'Why it was disabled stays in its notes and audit trail.',
    ],
    onConfirm: () => void changeStatus('enable'),
    onCancel: () => actionButton.focus(),
  });

  function openStatusDialog(): void {
    const disabling = customer.status === 'enabled';
    const confirmation = disabling ? disableDialog : enableDialog;
    confirmation.open(
      `${disabling ? 'Disable' : 'Enable'} ${customerLabel(customer)}?`,
      reason.value.trim(),
    );
  }

  async function changeStatus(change: 'disable' | 'enable'): Promise<void> {
    if (busy) return;
    busy = true;
    actionButton.setAttribute('aria-disabled', 'true');
    shell.clearMessages();
    const given = reason.value.trim() || undefined;
    let done = false;
    try {
      const updated =
        change === 'disable'
          ? await api.disable(customer.id, given)
          : await api.enable(customer.id, given);
      if (!shell.isCurrent()) return;
      customer = updated;
      reason.value = '';
      renderCustomer();
      renderActionButton();
      // Focus goes to the notice, not back to the button, which now does the opposite.
      shell.announce(
        change === 'disable'
          ? `${customerLabel(customer)} is disabled.`
          : `${customerLabel(customer)} is enabled.`,
        { focus: true },
      );
      done = true;
      void loadNotes();
      void loadSubscriptions();
      void loadAudit();
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
              `Stored on the customer and added to its internal notes. At most ${REASON_MAX} characters.`,
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

  // --- internal notes, subscriptions and the audit trail: each a list with pages of its own
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
  void loadNotes();
  void loadSubscriptions();
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
      { class: 'card', 'aria-labelledby': 'audit-heading' },
      h('h2', { id: 'audit-heading' }, 'Audit trail'),
      auditBox,
    ),
    disableDialog.element,
    enableDialog.element,
  );
  return { element, title: customerLabel(customer) };
}

/**
 * A modal confirmation: its title names the change and the customer, a warning, what follows, and
 * the reason that will be recorded. Cancel has focus first, so Enter alone never confirms; Escape
 * and Cancel call `onCancel`.
 */
function confirmationDialog(options: {
  id: string;
  confirm: string;
  confirmClass?: string;
  warning: Child[];
  consequences: string[];
  onConfirm: () => void;
  onCancel: () => void;
}): { element: HTMLDialogElement; open: (title: string, reason: string) => void } {
  const title = h('h2', { id: `${options.id}-title` });
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
      reasonLine,
      h(
        'div',
        { class: 'button-row' },
        h('button', { value: 'cancel', class: 'button-secondary', autofocus: true }, 'Cancel'),
        h('button', { value: 'confirm', class: options.confirmClass }, options.confirm),
      ),
    ),
  );
  element.addEventListener('close', () => {
    if (element.returnValue === 'confirm') options.onConfirm();
    else options.onCancel();
  });
  return {
    element,
    open(text, reason) {
      title.textContent = text;
      replaceChildren(
        reasonLine,
        reason ? h('span', {}, 'Reason: ', h('q', {}, reason)) : 'No reason given.',
      );
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
  },
): () => Promise<void> {
  let items: T[] = [];
  const load = async (cursor?: string): Promise<void> => {
    try {
      const page = await options.fetch(cursor);
      if (!options.isCurrent()) return;
      const firstNew = cursor ? items.length : 0;
      items = cursor ? [...items, ...page.data] : page.data;
      replaceChildren(box, options.render(items));
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

function actorName(actor: Actor | null | undefined): string {
  if (!actor) return 'unknown';
  const kind = actor.type === 'api_key' ? 'API key' : 'staff';
  return `${actor.name ?? actor.id ?? 'unknown'} (${kind})`;
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

const ACTIONS: Record<string, string> = {
  'customer.disabled': 'Disabled',
  'customer.enabled': 'Enabled',
};

function renderAudit(entries: AuditEntry[]): HTMLElement {
  if (entries.length === 0) return h('p', { class: 'empty' }, 'No status changes recorded yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'audit' },
      h('caption', {}, 'Status changes, newest first'),
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
          h('th', { scope: 'col' }, 'Status'),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((entry) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row', tabindex: -1, 'data-item': true }, time(entry.created_at)),
            h('td', {}, ACTIONS[entry.action] ?? entry.action),
            h('td', {}, actorName(entry.actor)),
            h('td', {}, entry.reason ?? '—'),
            h('td', {}, `${entry.before?.status ?? '?'} → ${entry.after?.status ?? '?'}`),
          ),
        ),
      ),
    ),
  );
}
