/** The REST API under /api/v1 (see openapi.json), with the staff token kept in sessionStorage. */

export const ROLES = ['user', 'customer_support', 'account_manager', 'developer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles form a hierarchy: each has every right of those before it. */
export function roleAtLeast(role: Role, least: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(least);
}

export interface StaffUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export interface LoginResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: StaffUser;
}

export type CustomerStatus = 'enabled' | 'disabled';

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  reference: string | null;
  external_reference: string | null;
  status: CustomerStatus;
  disabled_at: string | null;
  disabled_reason: string | null;
  billing_paused: boolean;
  /** Its active and scheduled holds: while one is active, the customer is disabled. */
  holds?: HoldSummary[];
  created_at: string;
  updated_at: string;
  version: number;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Actor {
  /**
   * `system` is the service itself: the scheduler, the dunning rules; `anonymous` somebody not
   * signed in (a failed sign-in, named by the email tried).
   */
  type: 'user' | 'api_key' | 'system' | 'anonymous';
  id: string | null;
  name: string | null;
}

export type HoldSource = 'manual' | 'overdue';
export type HoldState = 'scheduled' | 'active' | 'lifted' | 'expired';

/** One reason to block a customer, owned by whoever placed it (API.md, "Holds"). */
export interface Hold {
  id: string;
  customer_id: string;
  source: HoldSource;
  reason_code: string;
  reason: string | null;
  starts_at: string;
  ends_at: string | null;
  pause_billing: boolean;
  state: HoldState;
  placed_by: Actor | null;
  placed_at: string;
  lifted_by: Actor | null;
  lifted_at: string | null;
  lift_reason: string | null;
  review_at: string | null;
}

/** What the customer object says of each of its active and scheduled holds. */
export type HoldSummary = Pick<Hold, 'id' | 'source' | 'reason_code' | 'starts_at' | 'ends_at'>;

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

export interface PlaceHold {
  reason_code: string;
  reason?: string;
  starts_at?: string;
  ends_at?: string;
  pause_billing?: boolean;
  review_at?: string;
  /** Default true: the customer is emailed about the hold (when the service sends emails). */
  notify_customer?: boolean;
}

export interface DisableOptions {
  reason?: string;
  reason_code?: string;
  pause_billing?: boolean;
  ends_at?: string;
  notify_customer?: boolean;
}

/** `GET /hold-reason-codes`: the codes a hold may carry, and whether customers get emails. */
export interface HoldReasonCodes {
  reason_codes: string[];
  customer_emails: boolean;
}

export type NotificationKind =
  'hold_scheduled' | 'customer_disabled' | 'customer_enabled' | 'invoice_overdue';

/** An email to the customer about one of its events (API.md, "Telling the customer"). */
export interface CustomerNotification {
  id: string;
  event_id: string;
  kind: NotificationKind;
  recipient: string;
  subject: string;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
  next_attempt_at: string | null;
  created_at: string;
}

export interface Note {
  id: string;
  body: string;
  author?: Actor | null;
  created_at: string;
}

export interface AuditEntry {
  id: string;
  /** Position in the hash chain: gap-free, in commit order. */
  seq?: number;
  hash?: string;
  action: string;
  customer_id: string | null;
  /** What the entry is about besides a customer: a staff user, an API key, a plan... */
  target?: { type: string; id: string } | null;
  actor: Actor;
  reason: string | null;
  before: ({ status?: string; state?: string } & Record<string, unknown>) | null;
  after: ({ status?: string; state?: string } & Record<string, unknown>) | null;
  request_id: string | null;
  ip?: string | null;
  hold_id?: string | null;
  /** When the change took effect: a scheduled transition is recorded a moment after its instant. */
  effective_at?: string | null;
  created_at: string;
}

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

export interface Subscription {
  id: string;
  customer_id: string;
  plan_code: string;
  status: string;
  current_period_start: string;
  current_period_end: string;
  cancelled_at: string | null;
  created_at: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
}

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
