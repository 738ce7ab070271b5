import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyInstance } from 'fastify';
import request, { Response } from 'supertest';
import { CustomerChangeFeed } from '../../src/changes/customer-change-feed';
import { API_HEADERS_ONLY } from '../../src/common/security-headers';
import { LimitsFastLane } from '../../src/limits/limits-fast-lane';
import { LimitsController } from '../../src/limits/limits.controller';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, insertHold, signIn, StaffSession } from '../support/factories';
import { createFeature, createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

const UNKNOWN_ID = '0b6f3a57-1c1e-4d0e-9f55-2a8f5e0d4c11';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a client can see of an answer; the date and a generated request id differ by nature. */
function visible(response: Response, requestIdGiven: boolean) {
  const headers = { ...response.headers } as Record<string, string>;
  delete headers.date;
  if (!requestIdGiven) {
    expect(headers['x-request-id']).toMatch(UUID);
    delete headers['x-request-id'];
  }
  return { status: response.status, headers, body: response.body as unknown };
}

function withoutAsOf(answer: ReturnType<typeof visible>) {
  const body = answer.body as Record<string, unknown> | undefined;
  if (body === undefined || typeof body !== 'object' || !('as_of' in body)) return answer;
  const { as_of: asOf, ...rest } = body;
  expect(typeof asOf).toBe('string');
  return { ...answer, body: rest };
}

/**
 * The limits fast lane (LimitsFastLane) answers a key and limits found in memory without Nest's
 * pipeline. For every kind of call, its answer must be the Nest route's, to the header.
 */
describe('GET /customers/{id}/limits through the fast lane', () => {
  let t: TestApp;
  let lane: LimitsFastLane;
  let support: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    lane = t.app.get(LimitsFastLane);
    support = await signIn(t, 'customer_support');
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const get = (path: string, headers: Record<string, string>) =>
    request(t.http).get(path).set(headers);

  /** The answer, whether the fast lane gave it, and whether it did ahead of Fastify. */
  async function call(path: string, headers: Record<string, string>) {
    const [before, beforeInFront] = [lane.served, lane.servedInFront];
    const response = await get(path, headers);
    return {
      response,
      fast: lane.served - before === 1,
      front: lane.servedInFront - beforeInFront === 1,
    };
  }

  /**
   * Calls until memory answers (at most a second): the first read loads the customer, but this
   * instance's own change, coming back through LISTEN a moment later, may drop it once more (an
   * instance cannot tell its own echo from another's change). Every call's answer is checked by
   * the caller on the last one; a lane that never serves fails.
   */
  async function callUntilServed(path: string, headers: Record<string, string>) {
    let result = await call(path, headers);
    for (let tries = 0; !result.fast && tries < 40; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      result = await call(path, headers);
    }
    return result;
  }

  /** The Nest route's answer in the same state: the lane made to pass every call on. */
  async function nestRouteAnswer(path: string, headers: Record<string, string>) {
    const answer = jest.spyOn(lane, 'answerFor').mockReturnValue(undefined);
    try {
      return await get(path, headers);
    } finally {
      answer.mockRestore();
    }
  }

  async function customerWithPlans() {
    const [calls, sso] = [await createFeature(t), await createFeature(t)];
    const customer = await createCustomer(t);
    await createSubscription(
      t,
      customer.id,
      (await createPlan(t, { grants: { [calls.code]: 10, [sso.code]: null }, userCount: 2 })).id,
    );
    await createSubscription(
      t,
      customer.id,
      (await createPlan(t, { grants: { [calls.code]: 15 }, userCount: 3 })).id,
    );
    return customer;
  }

  const disable = (customerId: string) =>
    request(t.http)
      .post(`/api/v1/customers/${customerId}/disable`)
      .set(support.header)
      .send({ reason: 'Unpaid invoice' })
      .expect(200);

  interface Case {
    name: string;
    /** The request; runs after the previous cases. */
    setup: () => Promise<{ id: string; headers: Record<string, string> }>;
    status: number;
    /** Whether the second call (everything then in memory) is the fast lane's. */
    fast: boolean;
    body?: (id: string) => object;
  }

  const enabledLimits = (id: string) => ({
    customer_id: id,
    status: 'enabled',
    disabled: false,
    user_count: 5,
    features: expect.any(Array) as unknown,
    limits: expect.objectContaining({}) as unknown,
    holds: [],
    as_of: expect.any(String) as unknown,
  });
  const disabledLimits = (id: string) => ({
    customer_id: id,
    status: 'disabled',
    disabled: true,
    holds: [expect.objectContaining({ source: 'manual', reason_code: 'other', until: null })],
    user_count: 0,
    features: [],
    limits: {},
    as_of: expect.any(String) as unknown,
  });

  const cases: Case[] = [
    {
      name: 'a platform key',
      setup: async () => ({ id: (await customerWithPlans()).id, headers: platform.header }),
      status: 200,
      fast: true,
      body: enabledLimits,
    },
    {
      name: 'a platform key with an X-Request-Id to echo',
      setup: async () => ({
        id: (await customerWithPlans()).id,
        headers: { ...platform.header, 'X-Request-Id': 'backend-42.7' },
      }),
      status: 200,
      fast: true,
      body: enabledLimits,
    },
    {
      name: 'a platform key asking about a disabled customer',
      setup: async () => {
        const customer = await customerWithPlans();
        await disable(customer.id);
        return { id: customer.id, headers: platform.header };
      },
      status: 200,
      fast: true,
      body: disabledLimits,
    },
    {
      name: 'the customer’s own key, enabled',
      setup: async () => {
        const customer = await customerWithPlans();
        return { id: customer.id, headers: (await createApiKey(t, customer.id)).header };
      },
      status: 200,
      fast: true,
      body: enabledLimits,
    },
    {
      name: 'the customer’s own key, disabled',
      setup: async () => {
        const customer = await customerWithPlans();
        const own = await createApiKey(t, customer.id);
        await disable(customer.id);
        return { id: customer.id, headers: own.header };
      },
      status: 200,
      fast: true,
      body: disabledLimits,
    },
    {
      name: 'another customer’s key',
      setup: async () => {
        const [customer, other] = [await customerWithPlans(), await createCustomer(t)];
        return { id: customer.id, headers: (await createApiKey(t, other.id)).header };
      },
      status: 403,
      fast: false,
      body: () => ({ status: 403, code: 'forbidden' }),
    },
    {
      name: 'a key revoked after it was cached',
      setup: async () => {
        const customer = await customerWithPlans();
        const key = await createApiKey(t, customer.id);
        await get(`/api/v1/customers/${customer.id}/limits`, key.header).expect(200);
        await get(`/api/v1/customers/${customer.id}/limits`, key.header).expect(200);
        await request(t.http)
          .delete(`/api/v1/api-keys/${key.id}`)
          .set((await signIn(t, 'developer')).header)
          .expect(204);
        return { id: customer.id, headers: key.header };
      },
      status: 401,
      fast: false,
      body: () => ({ status: 401, code: 'unauthenticated' }),
    },
    {
      name: 'an unknown key',
      setup: async () => ({
        id: (await customerWithPlans()).id,
        headers: { 'X-API-Key': `ca_${'x'.repeat(43)}` },
      }),
      status: 401,
      fast: false,
      body: () => ({ status: 401, code: 'unauthenticated' }),
    },
    {
      name: 'an unknown customer',
      setup: () => Promise.resolve({ id: UNKNOWN_ID, headers: platform.header }),
      status: 404,
      fast: false,
      body: () => ({ status: 404, code: 'not_found' }),
    },
    {
      name: 'a malformed id',
      setup: () => Promise.resolve({ id: 'not-a-uuid', headers: platform.header }),
      status: 400,
      fast: false,
      body: () => ({ status: 400, code: 'validation_failed' }),
    },
    {
      name: 'a staff bearer token',
      setup: async () => ({
        id: (await customerWithPlans()).id,
        headers: (await signIn(t, 'user')).header,
      }),
      status: 200,
      fast: false,
      body: enabledLimits,
    },
    {
      name: 'no credentials',
      setup: async () => ({ id: (await customerWithPlans()).id, headers: {} }),
      status: 401,
      fast: false,
      body: () => ({ status: 401, code: 'unauthenticated' }),
    },
  ];

  it.each(cases)(
    'gives $name the Nest route’s answer ($status), on a miss and on a hit',
    async ({ setup, status, fast, body }) => {
      const { id, headers } = await setup();
      const path = `/api/v1/customers/${id}/limits`;
      const requestIdGiven = 'X-Request-Id' in headers;

      const first = await call(path, headers); // the caches may miss: always the Nest route
      // Now in memory when it can be; a refusal or a miss is never served, however often asked.
      const second = fast ? await callUntilServed(path, headers) : await call(path, headers);
      const reference = await nestRouteAnswer(path, headers); // the Nest route, caches warm

      expect(first.fast).toBe(false);
      expect(second.fast).toBe(fast);
      // The path as clients send it: a hit is answered ahead of Fastify.
      expect(second.front).toBe(fast);
      expect(second.response.status).toBe(status);
      if (body) expect(second.response.body).toMatchObject(body(id));
      expect(withoutAsOf(visible(second.response, requestIdGiven))).toEqual(
        withoutAsOf(visible(reference, requestIdGiven)),
      );
      // The same answers, but for when each was read: the customer may have been read again in
      // between (callUntilServed), and its as_of with it.
      expect(withoutAsOf(visible(second.response, requestIdGiven))).toEqual(
        withoutAsOf(visible(first.response, requestIdGiven)),
      );
      expect(second.response.headers['content-type']).toBe(
        status === 200
          ? 'application/json; charset=utf-8'
          : 'application/problem+json; charset=utf-8',
      );
      if (requestIdGiven) expect(second.response.headers['x-request-id']).toBe('backend-42.7');
      // No sign of the lane in an answer: its headers are the Nest route's, listed above.
    },
  );

  it('never answers "enabled" once a disable is committed, to the customer’s key or a platform key', async () => {
    const customer = await customerWithPlans();
    const own = await createApiKey(t, customer.id);
    const path = `/api/v1/customers/${customer.id}/limits`;
    for (const headers of [own.header, platform.header]) {
      await get(path, headers).expect(200);
      expect(await call(path, headers)).toMatchObject({
        fast: true,
        response: { body: { status: 'enabled' } },
      });
    }

    await disable(customer.id);

    for (const headers of [own.header, platform.header, own.header, platform.header]) {
      const { response } = await call(path, headers);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(disabledLimits(customer.id));
    }
    expect((await callUntilServed(path, platform.header)).fast).toBe(true);
  });

  it('passes every call on to the Nest route while the change feed is down, which reads the database', async () => {
    const customer = await customerWithPlans();
    const path = `/api/v1/customers/${customer.id}/limits`;
    await get(path, platform.header).expect(200);
    expect((await call(path, platform.header)).fast).toBe(true);

    jest.spyOn(t.app.get(CustomerChangeFeed), 'live', 'get').mockReturnValue(false);
    // A change nobody announces: only a bypassed cache sees it.
    await insertHold(t.db, customer.id);
    for (let i = 0; i < 3; i += 1) {
      const { response, fast } = await call(path, platform.header);
      expect(fast).toBe(false);
      expect(response.body).toEqual(disabledLimits(customer.id));
    }
  });

  it('does not answer from memory past the customer’s next hold boundary: the hit becomes a miss', async () => {
    const clock = new TestClock();
    clock.freeze();
    const timed = await startTestApp({}, { database: t.database, clock });
    try {
      const timedLane = timed.app.get(LimitsFastLane);
      const customer = await customerWithPlans();
      const startsAt = new Date(clock.now().getTime() + 3600_000);
      await insertHold(t.db, customer.id, { startsAt });
      const path = `/api/v1/customers/${customer.id}/limits`;
      const ask = async () => {
        const before = timedLane.served;
        const response = await request(timed.http).get(path).set(platform.header).expect(200);
        return { body: response.body as { status: string }, fast: timedLane.served - before === 1 };
      };
      expect((await ask()).fast).toBe(false);
      expect(await ask()).toMatchObject({ fast: true, body: { status: 'enabled' } });

      clock.advance(3600_000 - 1);
      expect(await ask()).toMatchObject({ fast: true, body: { status: 'enabled' } });
      clock.advance(1);
      expect(await ask()).toMatchObject({ fast: false, body: { status: 'disabled' } });
      expect(await ask()).toMatchObject({ fast: true, body: { status: 'disabled' } });
    } finally {
      await timed.close();
    }
  });

  it('leaves what the front lane does not take to Fastify (an id in upper case, a query string): the route lane answers it the same', async () => {
    const customer = await customerWithPlans();
    const path = `/api/v1/customers/${customer.id}/limits`;
    await get(path, platform.header).expect(200);
    const front = await call(path, platform.header);
    expect(front).toMatchObject({ fast: true, front: true });

    for (const other of [
      `/api/v1/customers/${customer.id.toUpperCase()}/limits`,
      `${path}?fields=all`,
    ]) {
      const routed = await call(other, platform.header);
      expect(routed).toMatchObject({ fast: true, front: false });
      expect(routed.response.body).toEqual({
        ...(front.response.body as object),
        as_of: expect.any(String) as unknown,
      });
      const headers = visible(routed.response, false).headers;
      delete headers['content-length']; // as_of may be another instant
      const frontHeaders = visible(front.response, false).headers;
      delete frontHeaders['content-length'];
      expect(headers).toEqual(frontHeaders);
    }
  });

  it('leaves a HEAD, a body and another path to Fastify', async () => {
    const customer = await customerWithPlans();
    const path = `/api/v1/customers/${customer.id}/limits`;
    await get(path, platform.header).expect(200);
    expect((await call(path, platform.header)).front).toBe(true);

    const before = lane.servedInFront;
    await request(t.http).head(path).set(platform.header).expect(200);
    await request(t.http)
      .get(path)
      .set(platform.header)
      .set('content-type', 'application/json')
      .send('{}')
      .expect(200);
    await get(`/api/v1/customers/${customer.id}/limitz`, platform.header).expect(404);
    expect(lane.servedInFront).toBe(before);
  });

  it('reads its headers in any case; a repeated key or request id is one Node joins', async () => {
    const customer = await customerWithPlans();
    const path = `/api/v1/customers/${customer.id}/limits`;
    await get(path, platform.header).expect(200);
    expect((await call(path, platform.header)).front).toBe(true);
    const key = platform.key;
    const shouted = await call(path, { 'X-API-KEY': key, 'X-REQUEST-ID': 'Loud-1' });
    expect(shouted.front).toBe(true);
    expect(shouted.response.headers['x-request-id']).toBe('Loud-1');

    // Node joins a repeated header's values ("a, b"): no request id (a new one), no key.
    // (superagent sends an array as one header line per value; its types allow only Cookie.)
    const twice = (first: string, second: string) => [first, second] as unknown as string;
    const ids = await get(path, platform.header)
      .set('X-Request-Id', twice('r-1', 'r-2'))
      .expect(200);
    expect(ids.headers['x-request-id']).toMatch(UUID);
    const before = lane.servedInFront;
    await request(t.http).get(path).set('X-API-Key', twice(key, key)).expect(401);
    expect(lane.servedInFront).toBe(before);
  });

  it('refuses to start when Fastify has a request hook nobody declared bypassable: the front lane would skip it', async () => {
    // A plugin that shares the root's hooks (what fastify-plugin does), added as any plugin is.
    const plugin = Object.assign(
      (child: FastifyInstance, _options: unknown, done: () => void) => {
        child.addHook('preHandler', function rateLimit(_request, _reply, next) {
          next();
        });
        done();
      },
      { [Symbol.for('skip-override')]: true },
    );
    await expect(
      startTestApp(
        {},
        { database: t.database, instrument: (fastify) => void fastify.register(plugin) },
      ),
    ).rejects.toThrow(
      /A Fastify preHandler hook \(rateLimit\): the limits fast lane would skip it/,
    );
  });

  it('refuses to start when the route would send other headers than the lane (API_HEADERS)', async () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const handler = LimitsController.prototype.get;
    const config = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as object;
    Reflect.defineMetadata(
      FASTIFY_ROUTE_CONFIG_METADATA,
      { ...config, [API_HEADERS_ONLY]: false },
      handler,
    );
    try {
      await expect(startTestApp({}, { database: t.database })).rejects.toThrow(
        'The limits fast lane sends API_HEADERS: its route must too',
      );
    } finally {
      Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, config, handler);
    }
  });
});
