/**
 * The REST API under /api/v1, with the staff token kept in sessionStorage. The types of what it
 * sends and answers are generated from openapi.json (packages/client, `npm run client:generate`):
 * the page cannot disagree with the contract without failing to compile.
 */
import type { components } from '../../packages/client/src/generated/openapi';

type Schemas = components['schemas'];

export const ROLES = [
  'user',
  'customer_support',
  'account_manager',
  'developer',
  'admin',
] as const satisfies readonly Schemas['StaffUserDto']['role'][];
export type Role = (typeof ROLES)[number];

/** Roles form a hierarchy: each has every right of those before it. */
export function roleAtLeast(role: Role, least: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(least);
}

export type StaffUser = Schemas['StaffUserDto'];
export type LoginResponse = Schemas['LoginResponseDto'];
export type Customer = Schemas['CustomerDto'];
export type CustomerStatus = Customer['status'];

/** A page of a list: `Schemas['CustomerPageDto']` and its siblings all have this shape. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Who did something; `system` is the service itself: the scheduler, the dunning rules. */
export type Actor = Schemas['ActorRefDto'];

/** One reason to block a customer, owned by whoever placed it (API.md, "Holds"). */
export type Hold = Schemas['HoldDto'];
export type HoldSource = Hold['source'];
export type HoldState = Hold['state'];

/** What the customer object says of each of its active and scheduled holds. */
export type HoldSummary = Schemas['HoldRefDto'];

/**
 * The contract's default `HOLD_REASON_CODES`: what the form offers until the service has said
 * which codes it is configured with (`GET /hold-reason-codes`).
 */
export const DEFAULT_REASON_CODES = [
  'non_payment',
  'dispute',
  'customer_request',
  'compliance',
  'security',
  'other',
] as const;

export type PlaceHold = Schemas['PlaceHoldDto'];
export type DisableOptions = Schemas['DisableCustomerDto'];

/** `GET /hold-reason-codes`: the codes a hold may carry, and whether customers get emails. */
export type HoldReasonCodes = Schemas['HoldReasonCodesDto'];

/** An email to the customer about one of its events (API.md, "Telling the customer"). */
export type CustomerNotification = Schemas['CustomerNotificationDto'];
export type NotificationKind = CustomerNotification['kind'];

export type Note = Schemas['NoteDto'];
export type AuditEntry = Schemas['AuditLogDto'];
export type Subscription = Schemas['SubscriptionDto'];

/** A problem answer as read from any body: nothing in it can be relied on. */
export type Problem = Partial<Schemas['ProblemDetailsDto']>;

export type Invoice = Schemas['InvoiceDto'];
export type InvoiceStatus = Invoice['status'];
export type InvoicePayment = Schemas['InvoicePaymentDto'];

/** `GET /audit-logs` filters; `action` may be a kind followed by a dot (`staff_user.`). */
export interface AuditQuery {
  action?: string;
  actor_id?: string;
  customer_id?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

/** `GET /audit-logs/verify`: the chain recomputed. */
export interface AuditVerification {
  ok: boolean;
  checked: number;
  head?: { seq: number; hash: string };
  checkpoint?: { seq: number; hash: string; signed_at: string } | null;
  first_broken_seq?: number;
  reason?: string;
  detail?: string;
}

export type ExportFormat = 'ndjson' | 'csv';

/** An answer other than 2xx, or no answer at all (status 0, code `network_error`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem: Problem = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Thrown after a 401: the shell has already sent the user back to sign in, with a message. */
export class SessionExpiredError extends Error {
  constructor() {
    super('The session has expired.');
    this.name = 'SessionExpiredError';
  }
}

const TOKEN_KEY = 'customer-access.admin.token';

export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  save(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

let sessionExpired: (message: string) => void = () => undefined;

/** Called when any call answers 401: the token is gone or no longer accepted. */
export function onSessionExpired(handler: (message: string) => void): void {
  sessionExpired = handler;
}

type Query = Record<string, string | number | null | undefined>;

async function call<T>(
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  options: { body?: unknown; query?: Query; signedIn?: boolean } = {},
): Promise<T> {
  const url = new URL(`/api/v1${path}`, window.location.origin);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== null && value !== undefined && value !== '') {
      url.searchParams.set(name, String(value));
    }
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const signedIn = options.signedIn ?? true;
  const token = session.token();
  if (signedIn && token) headers.authorization = `Bearer ${token}`;

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(
      0,
      'network_error',
      'The service could not be reached. Check the connection and try again.',
    );
  }

  if (response.status === 401 && signedIn) {
    const problem = await readProblem(response);
    session.clear();
    sessionExpired(
      `Your session has ended${problem.detail ? ` (${problem.detail})` : ''}. Sign in again.`,
    );
    throw new SessionExpiredError();
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    throw new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      describeProblem(response, problem),
      problem,
    );
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function readProblem(response: Response): Promise<Problem> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? body : {};
  } catch {
    return {};
  }
}

function describeProblem(response: Response, problem: Problem): string {
  const title = problem.title ?? (response.statusText || 'Error');
  const fields = (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
  const detail = [problem.detail, fields].filter(Boolean).join(' ');
  return `${title} (${response.status}${problem.code ? ` ${problem.code}` : ''})${detail ? `: ${detail}` : ''}`;
}

const id = (value: string) => encodeURIComponent(value);

export const api = {
  login: (email: string, password: string) =>
    call<LoginResponse>('POST', '/auth/login', { body: { email, password }, signedIn: false }),
  me: () => call<StaffUser>('GET', '/auth/me'),

  listCustomers: (query: {
    q?: string;
    status?: string;
    review_due?: string;
    cursor?: string;
    limit?: number;
  }) => call<Page<Customer>>('GET', '/customers', { query }),
  customer: (customerId: string) => call<Customer>('GET', `/customers/${id(customerId)}`),
  disable: (customerId: string, options: DisableOptions = {}) =>
    call<Customer>('POST', `/customers/${id(customerId)}/disable`, { body: options }),
  enable: (customerId: string, reason?: string) =>
    call<Customer>('POST', `/customers/${id(customerId)}/enable`, {
      body: reason ? { reason } : {},
    }),

  holds: (customerId: string, cursor?: string) =>
    call<Page<Hold>>('GET', `/customers/${id(customerId)}/holds`, {
      query: { cursor, limit: 20 },
    }),
  reasonCodes: () => call<HoldReasonCodes>('GET', '/hold-reason-codes'),
  placeHold: (customerId: string, hold: PlaceHold) =>
    call<Hold>('POST', `/customers/${id(customerId)}/holds`, { body: hold }),
  liftHold: (holdId: string, reason?: string) =>
    call<Hold>('POST', `/holds/${id(holdId)}/lift`, { body: reason ? { reason } : {} }),

  notes: (customerId: string, cursor?: string) =>
    call<Page<Note>>('GET', `/customers/${id(customerId)}/notes`, {
      query: { cursor, limit: 20 },
    }),
  addNote: (customerId: string, body: string) =>
    call<Note>('POST', `/customers/${id(customerId)}/notes`, { body: { body } }),
  notifications: (customerId: string, cursor?: string) =>
    call<Page<CustomerNotification>>('GET', `/customers/${id(customerId)}/notifications`, {
      query: { cursor, limit: 20 },
    }),
  subscriptions: (customerId: string, cursor?: string) =>
    call<Page<Subscription>>('GET', `/customers/${id(customerId)}/subscriptions`, {
      query: { cursor },
    }),
  updateCustomer: (customerId: string, changes: { dunning_exempt?: boolean }) =>
    call<Customer>('PATCH', `/customers/${id(customerId)}`, { body: changes }),
  invoices: (customerId: string, cursor?: string) =>
    call<Page<Invoice>>('GET', `/customers/${id(customerId)}/invoices`, {
      query: { cursor, limit: 20 },
    }),
  recordPayment: (invoiceId: string, amount: number, reference?: string) =>
    call<InvoicePayment>('POST', `/invoices/${id(invoiceId)}/payments`, {
      body: reference ? { amount, reference } : { amount },
    }),
  audit: (query: AuditQuery) =>
    call<Page<AuditEntry>>('GET', '/audit-logs', { query: { ...query } }),
  verifyAudit: () => call<AuditVerification>('GET', '/audit-logs/verify'),
  auditLogs: (customerId: string, cursor?: string) =>
    call<Page<AuditEntry>>('GET', `/customers/${id(customerId)}/audit-logs`, {
      query: { cursor, limit: 20 },
    }),
};

/** The export's URL under /api/v1, for a link to show where the file comes from. */
export function auditExportUrl(
  query: Pick<AuditQuery, 'from' | 'to'>,
  format: ExportFormat,
): string {
  const url = new URL('/api/v1/audit-logs/export', window.location.origin);
  if (query.from) url.searchParams.set('from', query.from);
  if (query.to) url.searchParams.set('to', query.to);
  url.searchParams.set('format', format);
  return `${url.pathname}${url.search}`;
}

/**
 * The export as a file: fetched with the session's token (a plain link could not send it), so
 * it arrives whole before it is saved. Answers the Blob and the file name the service gave.
 */
export async function downloadAuditExport(
  query: Pick<AuditQuery, 'from' | 'to'>,
  format: ExportFormat,
): Promise<{ blob: Blob; filename: string }> {
  const token = session.token();
  let response: Response;
  try {
    response = await fetch(auditExportUrl(query, format), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The service could not be reached.');
  }
  if (response.status === 401) {
    session.clear();
    sessionExpired('Your session has ended. Sign in again.');
    throw new SessionExpiredError();
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    throw new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      describeProblem(response, problem),
      problem,
    );
  }
  const disposition = response.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `audit-log.${format}`;
  return { blob: await response.blob(), filename };
}

/** What to tell the user about a failed call. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return `Something went wrong: ${error.message}`;
  return 'Something went wrong.';
}
