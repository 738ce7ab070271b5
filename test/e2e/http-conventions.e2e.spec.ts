import request from 'supertest';
import { countRows, signIn, StaffSession } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

describe('HTTP conventions', () => {
  let t: TestApp;
  let manager: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    manager = await signIn(t, 'account_manager');
  });
  afterAll(() => t.close());

  it('answers liveness and readiness without credentials, outside /api/v1', async () => {
    await request(t.http).get('/health').expect(200, { status: 'ok' });
    await request(t.http).get('/health/ready').expect(200, { status: 'ok', database: 'up' });
  });

  it('echoes a sane X-Request-Id and makes one when there is none', async () => {
    const echoed = await request(t.http).get('/health').set('X-Request-Id', 'abc-123').expect(200);
    expect(echoed.headers['x-request-id']).toBe('abc-123');
    const made = await request(t.http).get('/health').expect(200);
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const replaced = await request(t.http)
      .get('/health')
      .set('X-Request-Id', 'bad id <script>')
      .expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers errors as RFC 9457 problem details with a request id', async () => {
    const response = await request(t.http).get('/api/v1/customers').expect(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['x-request-id']).toBeDefined();
    expect(response.body).toEqual({
      type: expect.stringContaining('unauthenticated'),
      title: 'Unauthenticated',
      status: 401,
      detail: expect.any(String),
      code: 'unauthenticated',
      instance: '/api/v1/customers',
    });
  });

  it('answers an unknown route with 404 not_found problem details', async () => {
    const response = await request(t.http)
      .get('/api/v1/nothing-here')
      .set(manager.header)
      .expect(404);
    expect(response.body.code).toBe('not_found');
  });

  it('refuses a body over 100 kB with 413 and changes nothing', async () => {
    const before = await countRows(t, ['customers']);
    const response = await request(t.http)
      .post('/api/v1/customers')
      .set(manager.header)
      .send({ email: 'big@example.com', name: 'x'.repeat(110 * 1024) })
      .expect(413);
    expect(response.body).toMatchObject({ code: 'payload_too_large', status: 413 });
    expect(await countRows(t, ['customers'])).toEqual(before);
  });

  it('refuses unparsable JSON with 400 validation_failed, without echoing internals', async () => {
    const response = await request(t.http)
      .post('/api/v1/customers')
      .set(manager.header)
      .set('Content-Type', 'application/json')
      .send('{"email": ')
      .expect(400);
    expect(response.body.code).toBe('validation_failed');
    expect(JSON.stringify(response.body)).not.toMatch(/at |node_modules|SELECT|INSERT/);
  });

  it('refuses a body that is not a JSON object with 400 validation_failed', async () => {
    const response = await request(t.http)
      .post('/api/v1/customers')
      .set(manager.header)
      .set('Content-Type', 'application/json')
      .send('"email=a@b.io"')
      .expect(400);
    expect(response.body.code).toBe('validation_failed');
  });

  it('serves the Swagger UI and the OpenAPI document', async () => {
    const ui = await request(t.http).get('/docs').expect(200);
    expect(ui.text).toContain('swagger');
    const json = await request(t.http).get('/docs-json').expect(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.components.securitySchemes).sort()).toEqual(['api_key', 'bearer']);
  });
});
