import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { LimitsFastLane } from '../../src/limits/limits-fast-lane';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

/** What every answer of the service carries (HSTS is the TLS proxy's: README). */
function expectSecurityHeaders(headers: Record<string, string | string[] | undefined>): void {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).toContain("default-src 'self'");
  expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['strict-transport-security']).toBeUndefined();
}

/**
 * What every answer of the limits check carries (security-headers.ts, API_HEADERS): the OWASP
 * REST set, none of helmet's headers for documents.
 */
function expectApiHeaders(headers: Record<string, string | string[] | undefined>): void {
  expect(headers['cache-control']).toBe('no-store');
  expect(headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['content-type']).toMatch(/^application\/(problem\+)?json/);
  expect(headers['strict-transport-security']).toBeUndefined();
  expect(headers['referrer-policy']).toBeUndefined();
}

describe('security headers', () => {
  let t: TestApp;
  let manager: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    t = await startTestApp();
    manager = await signIn(t, 'account_manager');
    platform = await createApiKey(t);
  });
  afterAll(() => t.close());

  it('are on the API, its problem details, the health checks and the docs', async () => {
    const customer = await createCustomer(t);
    for (const [path, status, headers] of [
      ['/health', 200, {}],
      ['/health/ready', 200, {}],
      ['/docs', 200, {}],
      ['/docs-json', 200, {}],
      ['/api/v1/customers', 200, manager.header],
      [`/api/v1/customers/${customer.id}`, 200, manager.header],
      ['/api/v1/customers', 401, {}],
      ['/api/v1/customers/not-a-uuid', 400, manager.header],
      ['/api/v1/nothing-here', 404, manager.header],
      [`/api/v1/customers/${'x'.repeat(200)}`, 400, manager.header],
    ] as const) {
      const response = await request(t.http).get(path).set(headers);
      expect({ path, status: response.status }).toEqual({ path, status });
      expectSecurityHeaders(response.headers);
    }
    const refused = await request(t.http)
      .post('/api/v1/customers')
      .set(manager.header)
      .type('form')
      .send({ email: 'form@example.com' })
      .expect(415);
    expectSecurityHeaders(refused.headers);
  });

  it('on the limits check are a JSON API’s, whichever lane answers it, refusals included', async () => {
    const customer = await createCustomer(t);
    const lane = t.app.get(LimitsFastLane);
    const path = `/api/v1/customers/${customer.id}/limits`;
    const first = await request(t.http).get(path).set(platform.header).expect(200);
    expectApiHeaders(first.headers);
    let served = lane.served;
    let fast = await request(t.http).get(path).set(platform.header).expect(200);
    // The first answer may have come from a read: ask until the lane answers.
    for (let i = 0; i < 50 && lane.served === served; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      served = lane.served;
      fast = await request(t.http).get(path).set(platform.header).expect(200);
    }
    expect(lane.served).toBe(served + 1);
    expectApiHeaders(fast.headers);
    expect(fast.headers['x-request-id']).toBeDefined();
    expectApiHeaders((await request(t.http).get(path).expect(401)).headers);
    expectApiHeaders(
      (await request(t.http).get('/api/v1/customers/not-a-uuid/limits').set(platform.header))
        .headers,
    );
  });

  it('are on the answers Node gives before any request exists (431)', async () => {
    await t.app.listen(0, '127.0.0.1');
    const port = (t.http.address() as AddressInfo).port;
    const headers = await new Promise<Record<string, string | string[] | undefined>>(
      (resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/health',
            headers: { 'x-padding': 'p'.repeat(40 * 1024) },
            maxHeaderSize: 1024 * 1024,
          },
          (res) => {
            res.resume();
            expect(res.statusCode).toBe(431);
            resolve(res.headers);
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expectSecurityHeaders(headers);
  });
});
