import { api, auditExportUrl, downloadAuditExport, roleAtLeast } from '../api';
import type { AuditEntry, AuditQuery, ExportFormat, Page } from '../api';
import { h, pageHeading } from '../dom';
import { actorName, startOfUtcDay } from './holds';
import type { Shell } from './shell';

export const AUDIT_PAGE_SIZE = 50;

/** The kinds of action, for the filter: each stands for every action it starts. */
const KINDS: Record<string, string> = {
  'customer.': 'Customer status',
  'hold.': 'Holds',
  'staff_user.': 'Staff users',
  'auth.': 'Sign-ins',
  'api_key.': 'API keys',
  'feature.': 'Features',
  'plan.': 'Plans',
  'subscription.': 'Subscriptions',
  'webhook_endpoint.': 'Webhook endpoints',
  'invoice.': 'Invoices',
  'audit.': 'The audit log itself',
};

const ACTIONS = [
  'customer.disabled',
  'customer.enabled',
  'hold.placed',
  'hold.lifted',
  'hold.expired',
  'hold.reviewed',
  'staff_user.created',
  'staff_user.updated',
  'staff_user.password_changed',
  'auth.login_succeeded',
  'auth.login_failed',
  'api_key.created',
  'api_key.revoked',
  'feature.created',
  'plan.created',
  'subscription.created',
  'subscription.changed',
  'subscription.cancelled',
  'webhook_endpoint.created',
  'webhook_endpoint.updated',
  'webhook_endpoint.deleted',
  'webhook_endpoint.secret_rotated',
  'invoice.paid',
  'invoice.voided',
  'audit.exported',
  'audit.archived',
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY_MS = 86_400_000;

interface Filters {
  action: string;
  actor_id: string;
  customer_id: string;
  /** UTC days, as the date fields give them: `from` and `to` both included. */
  from: string;
  to: string;
  cursor: string;
}

function auditHash(filters: Partial<Filters>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  const text = query.toString();
  return `#/audit${text ? `?${text}` : ''}`;
}

function navigate(hash: string): void {
  if (window.location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else window.location.hash = hash;
}

/** The days of the form as the API's instants: from the start of `from` to the end of `to`. */
function range(filters: Filters): Pick<AuditQuery, 'from' | 'to'> {
  return {
    from: filters.from ? startOfUtcDay(filters.from) : undefined,
    to: filters.to
      ? new Date(Date.parse(startOfUtcDay(filters.to)) + DAY_MS).toISOString()
      : undefined,
  };
}

/**
 * Every audit entry, newest first, filtered by action (or a kind of action), actor, customer and
 * days; an export of the days chosen (NDJSON or CSV, with the hash chain's fields), and for
 * admins a "Verify" of the whole chain. For account managers and above.
 */
export async function auditLogView(
  params: URLSearchParams,
  shell: Shell,
): Promise<{ element: HTMLElement; title: string }> {
  if (!roleAtLeast(shell.me.role, 'account_manager')) {
    return {
      element: h(
        'section',
        { class: 'view' },
        pageHeading('Audit log'),
        h(
          'p',
          {},
          `The audit log needs the role account manager or higher; you are ${shell.me.role.replace('_', ' ')}.`,
        ),
      ),
      title: 'Audit log',
    };
  }
  const filters: Filters = {
    action: params.get('action') ?? '',
    actor_id: params.get('actor_id')?.trim() ?? '',
    customer_id: params.get('customer_id')?.trim() ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    cursor: params.get('cursor') ?? '',
  };

  const action = h(
    'select',
    { id: 'audit-action', name: 'action' },
    h('option', { value: '' }, 'Any action'),
    Object.entries(KINDS).map(([prefix, label]) =>
      h(
        'optgroup',
        { label },
        h('option', { value: prefix }, `${label}: every action`),
        ACTIONS.filter((a) => a.startsWith(prefix)).map((a) => h('option', { value: a }, a)),
      ),
    ),
  );
  action.value = filters.action;
  const actor = h('input', {
    id: 'audit-actor',
    name: 'actor_id',
    value: filters.actor_id,
    maxlength: 36,
    spellcheck: 'false',
    'aria-describedby': 'audit-id-hint',
  });
  const customer = h('input', {
    id: 'audit-customer',
    name: 'customer_id',
    value: filters.customer_id,
    maxlength: 36,
    spellcheck: 'false',
    'aria-describedby': 'audit-id-hint',
  });
  const from = h('input', { id: 'audit-from', name: 'from', type: 'date', value: filters.from });
  const to = h('input', { id: 'audit-to', name: 'to', type: 'date', value: filters.to });

  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Filter the audit log',
      onsubmit: (event) => {
        event.preventDefault();
        const ids = { actor_id: actor.value.trim(), customer_id: customer.value.trim() };
        const wrong = Object.entries(ids).find(([, value]) => value && !UUID.test(value));
        if (wrong) {
          shell.showError(
            `The ${wrong[0] === 'actor_id' ? 'actor' : 'customer'} id is not an id`,
            new Error('an id looks like 6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c'),
          );
          (wrong[0] === 'actor_id' ? actor : customer).focus();
          return;
        }
        navigate(auditHash({ action: action.value, ...ids, from: from.value, to: to.value }));
      },
    },
    h('div', { class: 'field' }, h('label', { for: action.id }, 'Action'), action),
    h('div', { class: 'field' }, h('label', { for: actor.id }, 'Actor id'), actor),
    h('div', { class: 'field' }, h('label', { for: customer.id }, 'Customer id'), customer),
    h('div', { class: 'field' }, h('label', { for: from.id }, 'From (UTC day)'), from),
    h('div', { class: 'field' }, h('label', { for: to.id }, 'To (UTC day, included)'), to),
    h('button', { type: 'submit' }, 'Filter'),
    h(
      'p',
      { id: 'audit-id-hint', class: 'hint' },
      'Ids are shown in the table: a staff user’s, an API key’s or a customer’s.',
    ),
  );

  const results = h('div', { class: 'results' });
  let page: Page<AuditEntry> | null = null;
  try {
    page = await api.audit({
      action: filters.action || undefined,
      actor_id: filters.actor_id || undefined,
      customer_id: filters.customer_id || undefined,
      ...range(filters),
      cursor: filters.cursor || undefined,
      limit: AUDIT_PAGE_SIZE,
    });
  } catch (error) {
    shell.showError('Could not load the audit log', error);
    results.append(h('p', { class: 'error-text' }, 'The audit log could not be loaded.'));
  }
  if (page) results.append(...renderEntries(page, filters));

  const element = h(
    'section',
    { class: 'view' },
    pageHeading('Audit log'),
    h(
      'p',
      { class: 'hint' },
      'Every sensitive action, newest first: a hash chain the service signs, which nobody can edit.',
    ),
    h(
      'div',
      { class: 'columns' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'audit-export-heading' },
        h('h2', { id: 'audit-export-heading' }, 'Export'),
        h(
          'p',
          { class: 'hint' },
          filters.from || filters.to
            ? 'The days chosen above, oldest first, with the hash chain’s fields.'
            : 'Every entry kept, oldest first, with the hash chain’s fields.',
        ),
        h(
          'p',
          { class: 'button-row' },
          exportLink('ndjson', 'Export NDJSON', filters, shell),
          exportLink('csv', 'Export CSV', filters, shell),
        ),
      ),
      roleAtLeast(shell.me.role, 'admin') ? verifyCard(shell) : null,
    ),
    form,
    results,
  );
  const filtered = Object.entries(filters).some(([name, value]) => name !== 'cursor' && value);
  return { element, title: filtered ? 'Audit log (filtered)' : 'Audit log' };
}

/**
 * A link to the export: it names the file's address, and a click fetches it with the session's
 * token and saves it (a plain navigation would carry no token).
 */
function exportLink(
  format: ExportFormat,
  label: string,
  filters: Filters,
  shell: Shell,
): HTMLAnchorElement {
  const link = h(
    'a',
    { href: auditExportUrl(range(filters), format), class: 'button-link' },
    label,
  );
  link.addEventListener('click', (event) => {
    event.preventDefault();
    shell.clearMessages();
    shell.announce('Preparing the export…');
    void downloadAuditExport(range(filters), format).then(
      ({ blob, filename }) => {
        const url = URL.createObjectURL(blob);
        const save = h('a', { href: url, download: filename, hidden: true });
        document.body.append(save);
        save.click();
        save.remove();
        window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
        shell.announce(`Exported ${filename}.`);
      },
      (error: unknown) => shell.showError('Could not export the audit log', error),
    );
  });
  return link;
}

/** Admins: recompute the whole chain and say what was found. */
function verifyCard(shell: Shell): HTMLElement {
  const outcome = h('p', { id: 'audit-verify-outcome', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', 'aria-describedby': outcome.id }, 'Verify');
  let running = false;
  button.addEventListener('click', () => {
    if (running) return;
    running = true;
    button.setAttribute('aria-disabled', 'true');
    outcome.className = '';
    outcome.textContent = 'Verifying the chain…';
    void api
      .verifyAudit()
      .then(
        (result) => {
          if (result.ok) {
            const signed = result.checkpoint
              ? `; matches the checkpoint of seq ${result.checkpoint.seq} signed ${result.checkpoint.signed_at}`
              : '; no signed checkpoint yet';
            outcome.className = 'verify-ok';
            outcome.textContent =
              `Verified: ${result.checked} entries recompute and link, up to seq ${result.head?.seq}` +
              `${signed}.`;
          } else {
            outcome.className = 'verify-broken';
            outcome.textContent =
              `Broken at seq ${result.first_broken_seq} (${result.reason}): ${result.detail ?? ''} ` +
              `(${result.checked} entries verified before it).`;
          }
        },
        (error: unknown) => {
          outcome.textContent = '';
          shell.showError('Could not verify the audit log', error);
        },
      )
      .finally(() => {
        running = false;
        button.removeAttribute('aria-disabled');
      });
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'audit-verify-heading' },
    h('h2', { id: 'audit-verify-heading' }, 'Verify the chain'),
    h(
      'p',
      { class: 'hint' },
      'Recomputes every entry’s hash and link, and checks the signed checkpoints.',
    ),
    button,
    outcome,
  );
}

function formatSeconds(iso: string): string {
  const text = new Date(iso).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 19)} UTC`;
}

/** `role: user → admin; active: true → false`: what the entry says changed. */
function change(entry: AuditEntry): string {
  // Beside status and state, an entry about a staff user or a key says what else changed.
  const before: Record<string, unknown> = entry.before ?? {};
  const after: Record<string, unknown> = entry.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (keys.length === 0) return '—';
  const show = (value: unknown) =>
    value === undefined ? '–' : typeof value === 'string' ? value : JSON.stringify(value);
  return keys.map((key) => `${key}: ${show(before[key])} → ${show(after[key])}`).join('; ');
}

const shortId = (id: string) => id.slice(0, 8);

function renderEntries(page: Page<AuditEntry>, filters: Filters): HTMLElement[] {
  if (page.data.length === 0) return [h('p', { class: 'empty' }, 'No entries match.')];
  const rows = page.data.map((entry) =>
    h(
      'tr',
      { 'data-seq': entry.seq ?? '', 'data-action': entry.action },
      h(
        'th',
        { scope: 'row' },
        h('time', { datetime: entry.created_at }, formatSeconds(entry.created_at)),
      ),
      h('td', { class: 'numeric' }, entry.seq ?? ''),
      h('td', {}, h('code', {}, entry.action)),
      h(
        'td',
        {},
        actorName(entry.actor),
        entry.actor.id ? h('span', { class: 'since' }, ` ${shortId(entry.actor.id)}`) : null,
      ),
      h(
        'td',
        {},
        entry.customer_id
          ? h(
              'a',
              { href: `#/customers/${encodeURIComponent(entry.customer_id)}` },
              `customer ${shortId(entry.customer_id)}`,
            )
          : null,
        entry.customer_id && entry.target ? ', ' : null,
        entry.target ? `${entry.target.type.replace('_', ' ')} ${shortId(entry.target.id)}` : null,
        !entry.customer_id && !entry.target ? '—' : null,
      ),
      h('td', { class: 'list-reason' }, entry.reason ?? '—'),
      h('td', { class: 'audit-change' }, change(entry)),
      h('td', {}, entry.ip ?? '—'),
    ),
  );
  const table = h(
    'table',
    { class: 'audit' },
    h(
      'caption',
      {},
      `${page.data.length} ${page.data.length === 1 ? 'entry' : 'entries'}, newest first` +
        (filters.cursor ? ' (a later page)' : ''),
    ),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'When'),
        h('th', { scope: 'col' }, 'Seq'),
        h('th', { scope: 'col' }, 'Action'),
        h('th', { scope: 'col' }, 'By'),
        h('th', { scope: 'col' }, 'About'),
        h('th', { scope: 'col' }, 'Reason'),
        h('th', { scope: 'col' }, 'Change'),
        h('th', { scope: 'col' }, 'IP'),
      ),
    ),
    h('tbody', {}, rows),
  );
  const paging = h(
    'nav',
    { class: 'paging', 'aria-label': 'Pages of the audit log' },
    filters.cursor ? h('a', { href: auditHash({ ...filters, cursor: '' }) }, 'First page') : null,
    page.next_cursor
      ? h(
          'a',
          { href: auditHash({ ...filters, cursor: page.next_cursor }), rel: 'next' },
          'Older entries',
        )
      : null,
  );
  return [h('div', { class: 'table-wrap' }, table), paging];
}
