import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import type { ApiKeyAccess } from '../../src/access/access.decorators';
import { Role, roleSatisfies, ROLES } from '../../src/access/roles';
import {
  createCustomer,
  createStaff,
  insertHold,
  signIn,
  signInEveryRole,
  STAFF_PASSWORD,
  StaffSession,
  uniqueEmail,
} from '../support/factories';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createPlan, createSubscription, uniqueCode } from '../support/plans';
import { startTestApp, TestApp, TEST_JWT_SECRET } from '../support/test-app';
import { JwtService } from '@nestjs/jwt';

/**
 * Every endpoint x every caller: allowed or refused exactly as the contract says. An endpoint is
 * listed with the least role that may call it; each request is valid, so an allowed caller gets
 * past the guards (any answer but 401/403) and a refused one gets 403 (or 401 without valid
 * credentials).
 */
interface Endpoint {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: (ctx: Context) => string;
  body?: (ctx: Context) => object;
  /** null: no staff role may call it (`@PlatformKeyOnly()`). */
  least: Role | null;
  /** Which API keys may call it besides staff (default none); `:id` is then ctx.customerId. */
  apiKeys?: ApiKeyAccess;
  /** `@AllowDisabledCustomerKey()`: a disabled customer's own key may still call it. */
  evenDisabledCustomerKey?: boolean;
  /** The call ends the caller's sessions: each role calls it with a session of its own. */
  endsSession?: boolean;
  /** A `text/event-stream` that never ends: an allowed call is closed once its headers came. */
  stream?: boolean;
}

interface Context {
  customerId: string;
  userId: string;
  apiKeyId: string;
  /** A customer that the matrix never disables, with an active subscription to `planCode`. */
  subscriberId: string;
  subscriptionId: string;
  planCode: string;
  /** A manual hold on a customer of its own (lifted by the first caller allowed to). */
  holdId: string;
  /** A webhook endpoint (deleted by the first caller allowed to, last). */
  webhookEndpointId: string;
  /** An event, to redeliver. */
  eventId: string;
  /** No such invoice: an allowed caller gets past the guards to 404. */
  invoiceId: string;
}

const routeName = (e: Endpoint) =>
  `${e.method.toUpperCase()} ${e.path({
    customerId: ':id',
    userId: ':id',
    apiKeyId: ':id',
    subscriberId: ':id',
    subscriptionId: ':id',
    planCode: ':code',
    holdId: ':id',
    webhookEndpointId: ':id',
    eventId: ':id',
    invoiceId: ':id',
  })}`;

const ENDPOINTS: Endpoint[] = [
  { method: 'get', path: () => '/api/v1/auth/me', least: 'user' },
  { method: 'post', path: () => '/api/v1/auth/logout', least: 'user', endsSession: true },
  {
    method: 'post',
    path: () => '/api/v1/auth/password',
    body: () => ({ current_password: STAFF_PASSWORD, new_password: 'violet-harbour-lantern-93' }),
    least: 'user',
    endsSession: true,
  },
  { method: 'get', path: () => '/api/v1/users', least: 'admin' },
  {
    method: 'post',
    path: () => '/api/v1/users',
    body: () => ({
      email: uniqueEmail('m'),
      name: 'M',
      password: 'a-long-enough-password',
      role: 'user',
    }),
    least: 'admin',
  },
  {
    method: 'patch',
    path: (c) => `/api/v1/users/${c.userId}`,
    body: () => ({ name: 'Renamed' }),
    least: 'admin',
  },
  { method: 'get', path: () => '/api/v1/customers', least: 'user', apiKeys: 'platform' },
  {
    method: 'get',
    path: (c) => `/api/v1/customers/${c.customerId}`,
    least: 'user',
    apiKeys: 'platform_and_own_customer',
  },
  {
    method: 'post',
    path: () => '/api/v1/customers',
    body: () => ({ email: uniqueEmail('c') }),
    least: 'account_manager',
    apiKeys: 'platform',
  },
  {
    method: 'patch',
    path: (c) => `/api/v1/customers/${c.customerId}`,
    body: () => ({ name: 'Renamed' }),
    least: 'account_manager',
    apiKeys: 'platform',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/customers/${c.customerId}/disable`,
    body: () => ({ reason: 'Access matrix' }),
    least: 'customer_support',
    apiKeys: 'platform',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/customers/${c.customerId}/enable`,
    body: () => ({ reason: 'Access matrix' }),
    least: 'customer_support',
    apiKeys: 'platform',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/customers/${c.customerId}/holds`,
    // Scheduled far ahead, so the matrix's customer is never disabled by it.
    body: () => ({ reason_code: 'other', starts_at: '2099-01-01T00:00:00Z' }),
    least: 'customer_support',
    apiKeys: 'platform',
  },
  {
    method: 'get',
    path: (c) => `/api/v1/customers/${c.customerId}/holds`,
    least: 'user',
    apiKeys: 'platform',
  },
  { method: 'get', path: () => '/api/v1/holds', least: 'user', apiKeys: 'platform' },
  { method: 'get', path: () => '/api/v1/hold-reason-codes', least: 'user', apiKeys: 'platform' },
  {
    method: 'post',
    path: (c) => `/api/v1/holds/${c.holdId}/review`,
    body: () => ({ review_at: '2099-01-01T00:00:00Z' }),
    least: 'customer_support',
    apiKeys: 'platform',
  },
  // Last on the hold: the first allowed caller lifts it, the others get 409 hold_not_active.
  {
    method: 'post',
    path: (c) => `/api/v1/holds/${c.holdId}/lift`,
    least: 'customer_support',
    apiKeys: 'platform',
  },
  { method: 'get', path: () => '/api/v1/audit-logs', least: 'user' },
  { method: 'get', path: () => '/api/v1/audit-logs/verify', least: 'admin' },
  { method: 'post', path: () => '/api/v1/audit-logs/checkpoints', least: 'admin' },
  { method: 'get', path: () => '/api/v1/audit-logs/checkpoints', least: 'account_manager' },
  { method: 'get', path: () => '/api/v1/audit-logs/public-key', least: 'account_manager' },
  { method: 'get', path: () => '/api/v1/audit-logs/export', least: 'account_manager' },
  { method: 'get', path: (c) => `/api/v1/customers/${c.customerId}/audit-logs`, least: 'user' },
  { method: 'get', path: (c) => `/api/v1/customers/${c.customerId}/notes`, least: 'user' },
  {
    method: 'get',
    path: (c) => `/api/v1/customers/${c.customerId}/notifications`,
    least: 'user',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/customers/${c.customerId}/notes`,
    body: () => ({ body: 'Access matrix note' }),
    least: 'customer_support',
  },
  {
    method: 'post',
    path: () => '/api/v1/api-keys',
    body: () => ({ name: 'Matrix key' }),
    least: 'developer',
  },
  { method: 'get', path: () => '/api/v1/api-keys', least: 'developer' },
  { method: 'delete', path: (c) => `/api/v1/api-keys/${c.apiKeyId}`, least: 'developer' },
  {
    method: 'post',
    path: () => '/api/v1/features',
    body: () => ({ code: uniqueCode('matrix'), name: 'Matrix feature' }),
    least: 'account_manager',
  },
  { method: 'get', path: () => '/api/v1/features', least: 'user' },
  {
    method: 'post',
    path: () => '/api/v1/plans',
    body: () => ({
      code: uniqueCode('matrix'),
      name: 'Matrix plan',
      amount: 100,
      currency: 'EUR',
      interval: 'month',
      user_count: 1,
      features: [],
      limits: {},
    }),
    least: 'account_manager',
  },
  { method: 'get', path: () => '/api/v1/plans', least: 'user' },
  {
    method: 'post',
    path: (c) => `/api/v1/customers/${c.subscriberId}/subscriptions`,
    body: (c) => ({ plan_code: c.planCode }),
    least: 'account_manager',
    apiKeys: 'platform',
  },
  {
    method: 'get',
    path: (c) => `/api/v1/customers/${c.subscriberId}/subscriptions`,
    least: 'user',
    apiKeys: 'platform',
  },
  {
    method: 'patch',
    path: (c) => `/api/v1/subscriptions/${c.subscriptionId}`,
    body: (c) => ({ plan_code: c.planCode }),
    least: 'account_manager',
    apiKeys: 'platform',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/subscriptions/${c.subscriptionId}/cancel`,
    least: 'customer_support',
    apiKeys: 'platform',
  },
  {
    method: 'get',
    path: (c) => `/api/v1/customers/${c.customerId}/limits`,
    least: 'user',
    apiKeys: 'platform_and_own_customer',
    evenDisabledCustomerKey: true,
  },
  { method: 'post', path: () => '/api/v1/billing/runs', least: 'developer' },
  { method: 'get', path: (c) => `/api/v1/customers/${c.customerId}/invoices`, least: 'user' },
  { method: 'get', path: () => '/api/v1/events', least: 'developer', apiKeys: 'platform' },
  {
    method: 'post',
    path: () => '/api/v1/webhook-endpoints',
    body: () => ({ url: 'https://example.com/matrix', event_types: ['invoice.paid'] }),
    least: 'developer',
  },
  { method: 'get', path: () => '/api/v1/webhook-endpoints', least: 'developer' },
  {
    method: 'patch',
    path: (c) => `/api/v1/webhook-endpoints/${c.webhookEndpointId}`,
    body: () => ({ description: 'Access matrix' }),
    least: 'developer',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/webhook-endpoints/${c.webhookEndpointId}/rotate-secret`,
    least: 'developer',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/webhook-endpoints/${c.webhookEndpointId}/test`,
    least: 'developer',
  },
  {
    method: 'get',
    path: (c) => `/api/v1/webhook-endpoints/${c.webhookEndpointId}/deliveries`,
    least: 'developer',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/events/${c.eventId}/redeliver`,
    body: (c) => ({ endpoint_id: c.webhookEndpointId }),
    least: 'developer',
  },
  // Last on the endpoint: the first allowed caller deletes it, the others get 404.
  {
    method: 'delete',
    path: (c) => `/api/v1/webhook-endpoints/${c.webhookEndpointId}`,
    least: 'developer',
  },
  { method: 'get', path: () => '/api/v1/invoices', least: 'user', apiKeys: 'platform' },
  {
    method: 'post',
    path: (c) => `/api/v1/invoices/${c.invoiceId}/payments`,
    body: () => ({ amount: 100 }),
    least: 'account_manager',
    apiKeys: 'platform',
  },
  {
    method: 'post',
    path: (c) => `/api/v1/invoices/${c.invoiceId}/void`,
    body: () => ({ reason: 'Issued by mistake' }),
    least: 'account_manager',
  },
  { method: 'post', path: () => '/api/v1/dunning/runs', least: 'developer' },
  {
    method: 'get',
    path: () => '/api/v1/access/stream',
    least: null,
    apiKeys: 'platform',
    stream: true,
  },
];

/**
 * Reads a JSON answer whole; an event stream (which never ends) only up to its headers, then
 * closes it: the status and headers are what the matrix checks.
 */
function headersThenClose(
  raw: unknown, // superagent types it as its own Response; it is Node's message
  callback: (error: Error | null, body: unknown) => void,
): void {
  const res = raw as IncomingMessage;
  if (String(res.headers['content-type']).startsWith('text/event-stream')) {
    res.destroy();
    callback(null, {});
    return;
  }
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.on('end', () => {
    try {
      callback(null, text === '' ? {} : JSON.parse(text));
    } catch (error) {
      callback(error as Error, undefined);
    }
  });
}

const KEY_CALLERS = ['platform key', 'own customer key', 'other customer key'] as const;
type KeyCaller = (typeof KEY_CALLERS)[number];

/** A route open to customer keys has the customer as `:id`: the context's customer, the "own" one. */
function keyAllowed(access: ApiKeyAccess, caller: KeyCaller): boolean {
  if (caller === 'platform key') return access !== 'none';
  if (caller === 'own customer key') return access === 'platform_and_own_customer';
  return false;
}

/** An endpoint that nothing answers (events it gets fail quietly), and an event to redeliver. */
async function webhookContext(t: TestApp, developer: StaffSession) {
  const created = await request(t.http)
    .post('/api/v1/webhook-endpoints')
    .set(developer.header)
    .send({ url: 'http://127.0.0.1:9/matrix', event_types: ['invoice.paid'] })
    .expect(201);
  const [event] = await t.db.query<{ id: string }[]>(
    `INSERT INTO events (type, customer_id, data, created_at)
     VALUES ('webhook.test', NULL, '{"test": true}', now()) RETURNING id`,
  );
  return { webhookEndpointId: created.body.id as string, eventId: event.id };
}

async function subscribedCustomer(t: TestApp) {
  const subscriberId = (await createCustomer(t)).id;
  const plan = await createPlan(t);
  const subscriptionId = (await createSubscription(t, subscriberId, plan.id)).id;
  return { subscriberId, subscriptionId, planCode: plan.code };
}

describe('access matrix', () => {
  let t: TestApp;
  let sessions: Record<Role, StaffSession>;
  let ctx: Context;
  let expired: string;
  let forged: string;
  let keys: Record<KeyCaller, TestApiKey>;
  let revokedKey: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    sessions = await signInEveryRole(t);
    const customerId = (await createCustomer(t)).id;
    keys = {
      'platform key': await createApiKey(t),
      'own customer key': await createApiKey(t, customerId),
      'other customer key': await createApiKey(t, (await createCustomer(t)).id),
    };
    revokedKey = await createApiKey(t);
    await t.db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [revokedKey.id]);
    ctx = {
      customerId,
      userId: (await createStaff(t, 'user')).id,
      apiKeyId: (await createApiKey(t)).id,
      ...(await subscribedCustomer(t)),
      holdId: (await insertHold(t.db, (await createCustomer(t)).id)).id,
      ...(await webhookContext(t, sessions.developer)),
      invoiceId: '3b9e6a1c-4f7d-4c2a-9e51-7d0c2b8a6f13',
    };
    expired = t.sign(sessions.admin.user.id, { expiresIn: 1 });
    forged = new JwtService({ secret: `${TEST_JWT_SECRET}-but-another` }).sign({
      sub: sessions.admin.user.id,
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });
  afterAll(() => t.close());

  const call = (endpoint: Endpoint, headers: Record<string, string>) => {
    const req = request(t.http)[endpoint.method](endpoint.path(ctx)).set(headers);
    if (endpoint.stream) return req.buffer(true).parse(headersThenClose);
    return endpoint.body ? req.send(endpoint.body(ctx)) : req;
  };

  const cases = ENDPOINTS.flatMap((endpoint) =>
    ROLES.map((role) => [routeName(endpoint), role, endpoint] as const),
  );

  it.each(cases)('%s as %s', async (_route: string, role: Role, endpoint: Endpoint) => {
    const session = endpoint.endsSession ? await signIn(t, role) : sessions[role];
    const response = await call(endpoint, session.header);
    if (endpoint.least !== null && roleSatisfies(role, endpoint.least)) {
      expect([401, 403]).not.toContain(response.status);
      expect(response.status).toBeLessThan(500);
    } else {
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('forbidden');
      // The refusal names the least role that would do (or a platform key), and the caller's.
      expect(response.body.detail).toContain(
        endpoint.least === null ? 'needs a platform API key' : `needs the role ${endpoint.least}`,
      );
      expect(response.body.detail).toContain(`you are ${role}.`);
    }
  });

  const keyCases = ENDPOINTS.flatMap((endpoint) =>
    KEY_CALLERS.map((caller) => [routeName(endpoint), caller, endpoint] as const),
  );

  it.each(keyCases)(
    '%s with a %s',
    async (_route: string, caller: KeyCaller, endpoint: Endpoint) => {
      // Earlier rows disable and enable the context's customer: while it is disabled its own key
      // is refused with customer_disabled, except where the route allows it.
      const [{ status }] = await t.db.query<{ status: string }[]>(
        'SELECT status FROM customers WHERE id = $1',
        [ctx.customerId],
      );
      const refusedAsDisabled =
        caller === 'own customer key' && status === 'disabled' && !endpoint.evenDisabledCustomerKey;
      const response = await call(endpoint, keys[caller].header);
      if (keyAllowed(endpoint.apiKeys ?? 'none', caller) && !refusedAsDisabled) {
        expect([401, 403]).not.toContain(response.status);
        expect(response.status).toBeLessThan(500);
      } else {
        expect(response.status).toBe(403);
        expect(response.body.code).toBe(refusedAsDisabled ? 'customer_disabled' : 'forbidden');
        // A key is told what would do: a staff sign-in with the least role, or a platform key.
        if (!refusedAsDisabled && endpoint.least === null) {
          expect(response.body.detail).toContain('needs a platform API key');
        } else if (!refusedAsDisabled) {
          expect(response.body.detail).toContain(`staff sign-in with the role ${endpoint.least}`);
          expect(response.body.detail).toContain(
            endpoint.apiKeys && endpoint.apiKeys !== 'none'
              ? 'platform API key'
              : 'API keys cannot',
          );
        }
      }
    },
  );

  it.each(ENDPOINTS.map((e) => [routeName(e), e] as const))(
    '%s refuses no credentials, a forged or expired token, and an unknown or revoked key with 401',
    async (_route, endpoint) => {
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: `Bearer ${forged}` },
        { Authorization: `Bearer ${expired}` },
        { Authorization: 'Bearer not.a.jwt' },
        { 'X-API-Key': `ca_${'x'.repeat(43)}` },
        revokedKey.header,
      ];
      for (const headers of attempts) {
        const response = await call(endpoint, headers);
        expect(response.status).toBe(401);
        expect(response.body.code).toBe('unauthenticated');
      }
    },
  );
});
