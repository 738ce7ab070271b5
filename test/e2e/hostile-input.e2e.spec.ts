import { request as httpRequest } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import request from 'supertest';
import { encodeCursor } from '../../src/common/pagination';
import { Customer } from '../../src/customers/entities/customer.entity';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { createPlan, createSubscription } from '../support/plans';
import { startTestApp, TEST_ADMIN, TestApp } from '../support/test-app';

/** Every table a write could touch: a refused request leaves all of them as they were. */
const TABLES = [
  'customers',
  'customer_notes',
  'audit_logs',
  'billing_pauses',
  'billing_runs',
  'invoices',
  'subscriptions',
  'staff_users',
  'api_keys',
];

function expectProblem(
  response: { status: number; headers: Record<string, string>; body: unknown; text?: string },
  status: number,
  code: string,
): void {
  expect({ status: response.status, type: response.headers['content-type'] }).toEqual({
    status,
    type: expect.stringMatching(/^application\/problem\+json/),
  });
  const body =
    typeof response.body === 'object' && response.body !== null && 'code' in response.body
      ? response.body
      : (JSON.parse(response.text ?? '') as unknown);
  expect(body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
}

/** A raw request, for what supertest cannot send (huge headers, exact bytes). */
function raw(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string>; text: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        // Node's client refuses to send headers larger than its own limit otherwise.
        maxHeaderSize: 1024 * 1024,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            text,
            body: text.startsWith('{') ? (JSON.parse(text) as unknown) : text,
          }),
        );
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

describe('hostile input', () => {
  let t: TestApp;
  let port: number;
  let support: StaffSession;
  let manager: StaffSession;
  let admin: StaffSession;
  let developer: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
    [support, manager, admin, developer] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'account_manager'),
      signIn(t, 'admin'),
      signIn(t, 'developer'),
    ]);
  });
  afterAll(() => t.close());

  describe('a NUL byte', () => {
    it('in a JSON text field is 400 validation_failed naming the field, and changes nothing', async () => {
      const before = await countRows(t, TABLES);
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .send({ email: 'nul@example.com', name: 'Acme\u0000Ltd' })
        .expect(400);
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors).toEqual([
        { field: 'name', message: expect.stringContaining('NUL') },
      ]);
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it('in a nested field is named with its path', async () => {
      const customer = await createCustomer(t);
      const before = await countRows(t, TABLES);
      const response = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .send({ reason: 'ok', extra: { deep: ['fine', 'bad\u0000'] } })
        .expect(400);
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors).toEqual([
        { field: 'extra.deep.1', message: expect.stringContaining('NUL') },
      ]);
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it('in the login email or password is 400 validation_failed, not 500', async () => {
      for (const body of [
        { email: `${TEST_ADMIN.email}\u0000`, password: TEST_ADMIN.password },
        { email: TEST_ADMIN.email, password: `x\u0000y` },
      ]) {
        const response = await request(t.http).post('/api/v1/auth/login').send(body);
        expectProblem(response, 400, 'validation_failed');
      }
    });

    it('in a query parameter is 400 validation_failed naming the parameter', async () => {
      for (const query of ['q=a%00b', 'email=a%00b%40example.com', 'status=enabled%00']) {
        const response = await request(t.http)
          .get(`/api/v1/customers?${query}`)
          .set(manager.header);
        expectProblem(response, 400, 'validation_failed');
        expect(response.body.errors[0].field).toBe(query.split('=')[0]);
      }
    });
  });

  describe('dates PostgreSQL cannot store', () => {
    const BAD_DATES = [
      '2026-W01',
      '2026-W01-1',
      '2026-001',
      '2026-02-30',
      '2026-02-29T00:00:00Z',
      '0000-01-01',
      '0000-01-01T00:00:00Z',
      '+275760-09-13T00:00:00Z',
      '2026-01-01T24:00:01Z',
      '2026-13-01',
    ];

    it('in the audit log and customer filters are 400 validation_failed', async () => {
      for (const date of BAD_DATES) {
        for (const path of [
          `/api/v1/audit-logs?from=${encodeURIComponent(date)}`,
          `/api/v1/audit-logs?to=${encodeURIComponent(date)}`,
          `/api/v1/customers?disabled_before=${encodeURIComponent(date)}`,
        ]) {
          const response = await request(t.http).get(path).set(admin.header);
          expectProblem(response, 400, 'validation_failed');
        }
      }
    });

    it('still accepts real dates and times, with or without a zone', async () => {
      for (const date of [
        '2026-01-01',
        '2024-02-29',
        '2026-01-01T10:00:00Z',
        '2026-01-01T10:00:00.123Z',
        '2026-01-01T10:00:00+02:00',
        '9999-12-31T23:59:59Z',
      ]) {
        await request(t.http)
          .get(`/api/v1/audit-logs?from=${encodeURIComponent(date)}`)
          .set(admin.header)
          .expect(200);
        await request(t.http)
          .get(`/api/v1/customers?disabled_before=${encodeURIComponent(date)}`)
          .set(admin.header)
          .expect(200);
      }
    });

    it('in a forged cursor are 400 validation_failed', async () => {
      const id = '0b7c9e3e-4a59-4f2f-9d8e-5d2f3c0b1a20';
      for (const date of [
        '0000-01-01T00:00:00Z',
        '2026-02-30T00:00:00Z',
        '2026-W01',
        '+275760-09-13T00:00:00Z',
      ]) {
        const cursor = encodeCursor([date, id]);
        for (const path of [
          `/api/v1/customers?cursor=${cursor}`,
          `/api/v1/customers?status=disabled&cursor=${cursor}`,
          `/api/v1/audit-logs?cursor=${cursor}`,
          `/api/v1/users?cursor=${cursor}`,
        ]) {
          const response = await request(t.http).get(path).set(admin.header);
          expectProblem(response, 400, 'validation_failed');
          expect(response.body.errors).toEqual([
            { field: 'cursor', message: 'is not a valid cursor' },
          ]);
        }
      }
    });
  });

  it('a forged cursor carrying a NUL is 400 validation_failed', async () => {
    for (const path of ['/api/v1/features', '/api/v1/plans']) {
      const response = await request(t.http)
        .get(`${path}?cursor=${encodeCursor(['code\u0000'])}`)
        .set(admin.header);
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors).toEqual([{ field: 'cursor', message: 'is not a valid cursor' }]);
    }
  });

  describe('deeply nested JSON', () => {
    it.each([
      ['an array', '['.repeat(40_000) + ']'.repeat(40_000)],
      ['an object field', `{"name":${'['.repeat(40_000)}${']'.repeat(40_000)}}`],
      ['unclosed', '['.repeat(100_000)],
    ])('(%s) is 400 validation_failed and changes nothing', async (_name, body) => {
      const before = await countRows(t, TABLES);
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .set('content-type', 'application/json')
        .send(body);
      expect([400, 413]).toContain(response.status);
      expectProblem(
        response,
        response.status,
        response.status === 400 ? 'validation_failed' : 'payload_too_large',
      );
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it('within the body limit is refused by its depth', async () => {
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .set('content-type', 'application/json')
        .send(`{"email":"deep@example.com","name":${'['.repeat(100)}${']'.repeat(100)}}`);
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.detail).toMatch(/nested/);
    });
  });

  describe('an over-long id', () => {
    it.each([
      ['GET', '/api/v1/customers/'],
      ['GET', '/api/v1/customers/%s/limits'],
      ['POST', '/api/v1/customers/%s/disable'],
      ['PATCH', '/api/v1/customers/'],
    ])('%s %s is 400 validation_failed, not a bare 414', async (method, path) => {
      const id = 'a'.repeat(150);
      const url = path.includes('%s') ? path.replace('%s', id) : path + id;
      const before = await countRows(t, TABLES);
      const response = await raw(port, {
        method,
        path: url,
        headers: { ...admin.header, 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : '{}',
      });
      expectProblem(response, 400, 'validation_failed');
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it('of several kilobytes is 400 validation_failed too', async () => {
      const response = await raw(port, {
        path: `/api/v1/customers/${'b'.repeat(6000)}`,
        headers: admin.header,
      });
      expectProblem(response, 400, 'validation_failed');
    });
  });

  it('a malformed percent-encoding in the path is 400 validation_failed', async () => {
    for (const path of ['/api/v1/customers/%E0%A4%A', '/api/v1/customers/%E0%A4%A/limits']) {
      const response = await raw(port, { path, headers: admin.header });
      expectProblem(response, 400, 'validation_failed');
    }
  });

  it('request headers too large are 431 request_header_too_large problem details', async () => {
    const response = await raw(port, {
      path: '/api/v1/customers',
      headers: { ...admin.header, 'x-padding': 'p'.repeat(40 * 1024) },
    });
    expectProblem(response, 431, 'request_header_too_large');
  });

  it('answers an unknown route and an unknown method with problem details', async () => {
    expectProblem(
      await request(t.http).get('/api/v1/nothing-here').set(admin.header),
      404,
      'not_found',
    );
    expectProblem(await request(t.http).get('/nothing-here'), 404, 'not_found');
    expectProblem(
      await request(t.http).delete('/api/v1/customers').set(admin.header),
      404,
      'not_found',
    );
  });

  describe('bodies that are not JSON', () => {
    it('a form creates no customer: 415 unsupported_media_type', async () => {
      const before = await countRows(t, TABLES);
      const response = await request(t.http)
        .post('/api/v1/customers')
        .set(manager.header)
        .type('form')
        .send({ email: 'form@example.com', name: 'Form Ltd' })
        .expect(415);
      expectProblem(response, 415, 'unsupported_media_type');
      expect(await countRows(t, TABLES)).toEqual(before);
    });

    it.each([
      ['application/x-www-form-urlencoded', 'email=other%40example.com'],
      ['text/plain', '{"email":"other@example.com"}'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\nother@example.com\r\n--x--\r\n',
      ],
      ['application/xml', '<email>other@example.com</email>'],
    ])('%s is 415 on every kind of write, changing nothing', async (type, body) => {
      const customer = await createCustomer(t);
      const before = await countRows(t, TABLES);
      for (const [method, path, session] of [
        ['POST', '/api/v1/customers', manager],
        ['PATCH', `/api/v1/customers/${customer.id}`, manager],
        ['POST', `/api/v1/customers/${customer.id}/disable`, support],
        ['POST', `/api/v1/customers/${customer.id}/notes`, support],
        ['POST', '/api/v1/auth/login', undefined],
      ] as const) {
        const response = await raw(port, {
          method,
          path,
          headers: { ...session?.header, 'content-type': type },
          body,
        });
        expectProblem(response, 415, 'unsupported_media_type');
      }
      expect(await countRows(t, TABLES)).toEqual(before);
      expect((await t.db.getRepository(Customer).findOneByOrFail({ id: customer.id })).email).toBe(
        customer.email,
      );
    });

    it('a body without a content type is 415 too', async () => {
      const before = await countRows(t, TABLES);
      const response = await raw(port, {
        method: 'POST',
        path: '/api/v1/customers',
        headers: { ...manager.header, 'content-length': '30' },
        body: '{"email":"none@example.com"} ',
      });
      expectProblem(response, 415, 'unsupported_media_type');
      expect(await countRows(t, TABLES)).toEqual(before);
    });
  });

  describe('an empty JSON body', () => {
    const emptyJson = (method: 'post' | 'patch', path: string, session: StaffSession) =>
      request(t.http)[method](path).set(session.header).set('content-type', 'application/json');

    it('is an empty object where the body is optional: disable, enable, cancel, billing run', async () => {
      const customer = await createCustomer(t);
      const disabled = await emptyJson('post', `/api/v1/customers/${customer.id}/disable`, support)
        .send('')
        .expect(200);
      expect(disabled.body.status).toBe('disabled');
      const enabled = await emptyJson('post', `/api/v1/customers/${customer.id}/enable`, support)
        .send('')
        .expect(200);
      expect(enabled.body.status).toBe('enabled');

      const plan = await createPlan(t);
      const subscription = await createSubscription(t, customer.id, plan.id);
      const cancelled = await emptyJson(
        'post',
        `/api/v1/subscriptions/${subscription.id}/cancel`,
        support,
      )
        .send('')
        .expect(200);
      expect(cancelled.body.status).toBe('cancelled');

      await emptyJson('post', '/api/v1/billing/runs', developer).send('').expect(201);
    });

    it('is 400 validation_failed naming the missing fields where the body is required', async () => {
      const before = await countRows(t, TABLES);
      const created = await emptyJson('post', '/api/v1/customers', manager).send('').expect(400);
      expectProblem(created, 400, 'validation_failed');
      expect(created.body.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'email' })]),
      );
      const login = await request(t.http)
        .post('/api/v1/auth/login')
        .set('content-type', 'application/json')
        .send('')
        .expect(400);
      expectProblem(login, 400, 'validation_failed');
      expect(login.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(
        expect.arrayContaining(['email', 'password']),
      );
      expect(await countRows(t, TABLES)).toEqual(before);
    });
  });
});

/** HTTP/1.1 responses read off one connection, in order. */
function parseResponses(
  text: string,
): { status: number; headers: Record<string, string>; body: unknown }[] {
  const responses = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    const length = Number(headers['content-length']);
    const body = rest.slice(end + 4, end + 4 + length);
    responses.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: JSON.parse(body) as unknown,
    });
    rest = rest.slice(end + 4 + length);
  }
  return responses;
}

describe('a request during shutdown', () => {
  it('is 503 service_unavailable with Retry-After as problem details, and changes nothing', async () => {
    const t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    const port = (t.http.address() as AddressInfo).port;
    const [support, manager] = [
      await signIn(t, 'customer_support'),
      await signIn(t, 'account_manager'),
    ];
    const customer = await createCustomer(t);
    // Holding the customer's row keeps a disable, and so its connection, busy while the service
    // begins to shut down; a request sent on that connection afterwards meets the shutdown.
    const locker = new Client({ connectionString: t.database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [customer.id]);
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      const ended = new Promise((resolve) => socket.on('close', resolve));
      const send = (method: string, path: string, auth: string, body: string) =>
        socket.write(
          `${method} ${path} HTTP/1.1\r\nhost: localhost\r\n${auth}\r\n` +
            `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      send(
        'POST',
        `/api/v1/customers/${customer.id}/disable`,
        `authorization: ${support.header.Authorization}`,
        '{}',
      );
      await sleep(300);

      const closed = t.app.close();
      while (t.http.listening) await sleep(10);
      const email = 'during-shutdown@example.com';
      send(
        'POST',
        '/api/v1/customers',
        `authorization: ${manager.header.Authorization}`,
        JSON.stringify({ email }),
      );
      await sleep(200);
      await locker.query('ROLLBACK');
      await Promise.all([ended, closed]);

      const [first, second] = parseResponses(received);
      expect(first.status).toBe(200);
      expect(second.status).toBe(503);
      expect(second.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(second.headers['retry-after']).toBe('2');
      expect(second.body).toMatchObject({ status: 503, code: 'service_unavailable' });
      const { rows } = await locker.query<{ count: string }>(
        'SELECT count(*)::text AS count FROM customers WHERE email = $1',
        [email],
      );
      expect(rows[0].count).toBe('0');
    } finally {
      await locker.end();
      await t.database.drop();
    }
  });
});
