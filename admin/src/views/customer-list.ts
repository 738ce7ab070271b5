import { api } from '../api';
import type { Customer, Page } from '../api';
import { h, pageHeading, statusBadge, time } from '../dom';
import type { Shell } from './shell';

export const PAGE_SIZE = 25;

interface ListParams {
  q?: string;
  status?: string;
  review_due?: string;
  cursor?: string;
}

function listHash(params: ListParams): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return `#/customers${text ? `?${text}` : ''}`;
}

function navigate(hash: string): void {
  if (window.location.hash === hash) {
    // Same search again: hashchange would not fire, so ask for the render ourselves.
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

/**
 * Customers, searchable and filtered by status or by a hold review that is due; disabled ones
 * show since when and why, for review.
 */
export async function customerListView(
  params: URLSearchParams,
  shell: Shell,
): Promise<{ element: HTMLElement; title: string }> {
  const q = params.get('q')?.trim() ?? '';
  const status = params.get('status') ?? '';
  const cursor = params.get('cursor') ?? '';
  const reviewDue = params.get('review_due') === 'true';

  const search = h('input', {
    id: 'customer-search',
    name: 'q',
    type: 'search',
    value: q,
    maxlength: 200,
    'aria-describedby': 'customer-search-hint',
  });
  const statusSelect = h(
    'select',
    { id: 'customer-status-filter', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    h('option', { value: 'enabled' }, 'Enabled'),
    h('option', { value: 'disabled' }, 'Disabled (longest disabled first)'),
  );
  statusSelect.value = ['enabled', 'disabled'].includes(status) ? status : '';
  const reviewDueBox = h('input', {
    id: 'customer-review-due',
    name: 'review_due',
    type: 'checkbox',
    checked: reviewDue,
    'aria-describedby': 'customer-review-due-hint',
  });

  const filters = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Find customers',
      onsubmit: (event) => {
        event.preventDefault();
        navigate(
          listHash({
            q: search.value.trim(),
            status: statusSelect.value,
            review_due: reviewDueBox.checked ? 'true' : '',
          }),
        );
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: search.id }, 'Search'),
      search,
      h(
        'p',
        { id: 'customer-search-hint', class: 'hint' },
        'Part of the email, name or a reference.',
      ),
    ),
    h('div', { class: 'field' }, h('label', { for: statusSelect.id }, 'Status'), statusSelect),
    h(
      'div',
      { class: 'field checkbox-field' },
      reviewDueBox,
      h('label', { for: reviewDueBox.id }, 'Review due'),
      h(
        'span',
        { id: 'customer-review-due-hint', class: 'visually-hidden' },
        'Only disabled customers with a hold whose review date has passed.',
      ),
    ),
    h('button', { type: 'submit' }, 'Search'),
  );

  const results = h('div', { class: 'results' });
  let page: Page<Customer> | null = null;
  try {
    page = await api.listCustomers({
      q: q || undefined,
      status: statusSelect.value || undefined,
      review_due: reviewDue ? 'true' : undefined,
      cursor: cursor || undefined,
      limit: PAGE_SIZE,
    });
  } catch (error) {
    shell.showError('Could not load the customers', error);
    results.append(h('p', { class: 'error-text' }, 'The customers could not be loaded.'));
  }
  const current = {
    q,
    status: statusSelect.value,
    review_due: reviewDue ? 'true' : '',
    cursor,
  };
  if (page) results.append(...renderPage(page, current));

  const filtered = q || statusSelect.value || reviewDue;
  return {
    element: h('section', { class: 'view' }, pageHeading('Customers'), filters, results),
    title: filtered ? 'Customers (filtered)' : 'Customers',
  };
}

type Current = Required<ListParams>;

/** "25 customers matching “acme”, disabled, review due (a later page)": what the table shows. */
function describeResults(count: number, current: Current): string {
  const filters = [
    current.q && `matching “${current.q}”`,
    current.status,
    current.review_due && 'review due',
  ].filter(Boolean);
  return (
    `${count} ${count === 1 ? 'customer' : 'customers'}` +
    (filters.length ? ` ${filters.join(', ')}` : '') +
    (current.cursor ? ' (a later page)' : '')
  );
}

function renderPage(page: Page<Customer>, current: Current): HTMLElement[] {
  if (page.data.length === 0) {
    return [h('p', { class: 'empty' }, 'No customers match.')];
  }
  const rows = page.data.map((customer) =>
    h(
      'tr',
      {},
      h(
        'th',
        { scope: 'row' },
        h(
          'a',
          { href: `#/customers/${encodeURIComponent(customer.id)}` },
          customer.name ?? customer.email,
        ),
      ),
      h('td', {}, customer.email),
      h('td', {}, customer.reference ?? ''),
      h(
        'td',
        {},
        statusBadge(customer.status),
        customer.status === 'disabled' && customer.disabled_at
          ? h('span', { class: 'since' }, ' Disabled since ', time(customer.disabled_at))
          : null,
      ),
      h(
        'td',
        { class: 'list-reason' },
        customer.status === 'disabled' ? (customer.disabled_reason ?? '—') : '',
      ),
    ),
  );
  const table = h(
    'table',
    {},
    h('caption', {}, describeResults(page.data.length, current)),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Customer'),
        h('th', { scope: 'col' }, 'Email'),
        h('th', { scope: 'col' }, 'Reference'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Reason'),
      ),
    ),
    h('tbody', {}, rows),
  );
  const paging = h(
    'nav',
    { class: 'paging', 'aria-label': 'Pages of customers' },
    current.cursor ? h('a', { href: listHash({ ...current, cursor: '' }) }, 'First page') : null,
    page.next_cursor
      ? h(
          'a',
          {
            href: listHash({ ...current, cursor: page.next_cursor }),
            rel: 'next',
          },
          'Next page',
        )
      : null,
  );
  return [h('div', { class: 'table-wrap' }, table), paging];
}
