import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DEFAULT_HOLD_REASON_CUSTOMER_TEXTS } from '../../src/config/app-config';
import { createApiKey } from '../support/api-keys';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import {
  disableCustomer,
  enableCustomer,
  eventually,
  Headers,
  MALFORMED_ID,
  placeHold,
  sleep,
  UNKNOWN_ID,
} from '../support/holds';
import { startSmtpServer, TestSmtpServer } from '../support/smtp';
import {
  createTestDatabase,
  queryAs,
  startTestApp,
  TestApp,
  TestClock,
  TestDatabase,
} from '../support/test-app';

/**
 * Telling the customer (API.md, "Events and webhooks"): emails written from the outbox in the
 * transaction of their event and sent by the dispatcher to a real SMTP server on loopback.
 */

/** A distinctive internal reason: it must never reach the customer. */
const INTERNAL = 'INTERNAL-chargeback-ring-suspected-9x2';
const EMAIL_FROM = 'Acme Billing <billing@acme.test>';
const COMPLIANCE_TEXT = 'We need a few documents from you to complete a routine review.';
const HOUR = 3_600_000;

interface NotificationBody {
  id: string;
  event_id: string;
  kind: string;
  recipient: string;
  subject: string;
  state: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
  next_attempt_at: string | null;
  created_at: string;
}

function emailEnv(smtp: { url: string }, extra: Record<string, string> = {}) {
  return {
    SMTP_URL: smtp.url,
    EMAIL_FROM,
    EMAIL_RETRY_SCHEDULE: '100ms,100ms',
    OUTBOX_POLL_INTERVAL_MS: '50',
    HOLD_REASON_CUSTOMER_TEXTS: JSON.stringify({ compliance: COMPLIANCE_TEXT }),
    ...extra,
  };
}

async function listNotifications(
  t: TestApp,
  customerId: string,
  headers: Headers,
  query = '',
): Promise<{ data: NotificationBody[]; next_cursor: string | null }> {
  const response = await request(t.http)
    .get(`/api/v1/customers/${customerId}/notifications${query}`)
    .set(headers)
    .expect(200);
  return response.body;
}

/** Waits until the customer has `count` notifications and none is pending. */
function settled(t: TestApp, customerId: string, headers: Headers, count = 1) {
  return eventually(
    async () => {
      const { data } = await listNotifications(t, customerId, headers);
      return data.length === count && data.every((n) => n.state !== 'pending') ? data : undefined;
    },
    10_000,
    `${count} notification(s) of ${customerId} sent or failed`,
  );
}

const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();

function expectNoInternalReason(mail: {
  subject: string;
  text: string;
  html: string;
  raw: string;
}) {
  for (const part of [mail.subject, mail.text, mail.html, mail.raw]) {
    expect(part).not.toContain(INTERNAL);
  }
}

describe('customer emails', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let support: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp(emailEnv(smtp));
    support = await signIn(t, 'customer_support');
    reader = await signIn(t, 'user');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('emails a disabled customer once: the reason code’s text, never the internal reason; listed as sent', async () => {
    const customer = await createCustomer(t, { name: 'Acme Ltd' });
    await disableCustomer(t, customer.id, support.header, {
      reason_code: 'security',
      reason: INTERNAL,
    }).expect(200);

    const [mail] = await smtp.waitFor(customer.email);
    expect(mail.from).toBe('billing@acme.test');
    expect(mail.headers.from).toBe('Acme Billing <billing@acme.test>');
    expect(mail.to).toEqual([customer.email]);
    expect(mail.subject).toBe('Your account has been suspended');
    expect(mail.text).toContain('Hello Acme Ltd,');
    expect(mail.text).toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.security);
    expect(mail.html).toContain(`<p>${DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.security}</p>`);
    expectNoInternalReason(mail);

    const [listed] = await settled(t, customer.id, reader.header);
    expect(listed).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      kind: 'customer_disabled',
      recipient: customer.email,
      subject: 'Your account has been suspended',
      state: 'sent',
      attempts: 1,
      last_error: null,
      sent_at: expect.any(String),
      next_attempt_at: null,
      created_at: expect.any(String),
    });
    // The Message-ID comes from the notification, so that a copy sent again is recognizable.
    expect(mail.headers['message-id']).toBe(`<notification-${listed.id}@acme.test>`);
    const [event] = await t.db.query<{ type: string; customer_id: string }[]>(
      'SELECT type, customer_id FROM events WHERE id = $1',
      [listed.event_id],
    );
    expect(event).toEqual({ type: 'customer.disabled', customer_id: customer.id });

    // Once: a later pass sends nothing more, and a second disable changes nothing.
    await disableCustomer(t, customer.id, support.header, { reason: 'again' }).expect(200);
    await sleep(300);
    expect(smtp.to(customer.email)).toHaveLength(1);
    expect((await listNotifications(t, customer.id, reader.header)).data).toHaveLength(1);
  });

  it('gives the text HOLD_REASON_CUSTOMER_TEXTS configures for the code, and other’s for a code without one', async () => {
    const compliance = await createCustomer(t);
    await disableCustomer(t, compliance.id, support.header, {
      reason_code: 'compliance',
      reason: INTERNAL,
    }).expect(200);
    const [mail] = await smtp.waitFor(compliance.email);
    expect(mail.text).toContain(COMPLIANCE_TEXT);
    expect(mail.text).not.toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.compliance);
    expectNoInternalReason(mail);

    const other = await createCustomer(t);
    await disableCustomer(t, other.id, support.header, { reason: INTERNAL }).expect(200);
    const [otherMail] = await smtp.waitFor(other.email);
    expect(otherMail.text).toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.other);
    expectNoInternalReason(otherMail);
  });

  it('warns of a scheduled hold before it starts, with its start and end', async () => {
    const customer = await createCustomer(t, { name: 'Later Ltd' });
    const startsAt = '2099-03-01T00:00:00.000Z';
    const endsAt = '2099-03-15T12:00:00.000Z';
    const placed = await placeHold(t, customer.id, support.header, {
      reason_code: 'non_payment',
      reason: INTERNAL,
      starts_at: startsAt,
      ends_at: endsAt,
    }).expect(201);
    expect(placed.body.state).toBe('scheduled');

    const [mail] = await smtp.waitFor(customer.email);
    expect(mail.subject).toBe('Your account will be suspended on 2099-03-01 00:00 UTC');
    expect(mail.text).toContain('Hello Later Ltd,');
    expect(mail.text).toContain('from 2099-03-01 00:00 UTC until 2099-03-15 12:00 UTC');
    expect(mail.text).toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.non_payment);
    expectNoInternalReason(mail);
    const [listed] = await settled(t, customer.id, reader.header);
    expect(listed).toMatchObject({ kind: 'hold_scheduled', state: 'sent', attempts: 1 });
    expect(Date.parse(listed.sent_at!)).toBeLessThan(Date.parse(startsAt));
    // Still enabled: the warning comes before the hold does.
    const status = await request(t.http)
      .get(`/api/v1/customers/${customer.id}`)
      .set(reader.header)
      .expect(200);
    expect(status.body.status).toBe('enabled');
  });

  it('emails the customer when it is enabled again, without the lift’s reason', async () => {
    const customer = await createCustomer(t, { name: 'Back Ltd' });
    await disableCustomer(t, customer.id, support.header, { reason_code: 'dispute' }).expect(200);
    await smtp.waitFor(customer.email);
    await enableCustomer(t, customer.id, support.header, { reason: INTERNAL }).expect(200);

    const mails = await smtp.waitFor(customer.email, 2);
    const enabled = mails[1];
    expect(enabled.subject).toBe('Your account is active again');
    expect(enabled.text).toContain('Hello Back Ltd,');
    expect(enabled.text).toContain('Access to your account has been restored');
    expectNoInternalReason(enabled);
    const listed = await settled(t, customer.id, reader.header, 2);
    expect(listed.map((n) => [n.kind, n.state])).toEqual([
      ['customer_enabled', 'sent'],
      ['customer_disabled', 'sent'],
    ]);
  });

  it('writes and sends nothing for notify_customer: false, on a disable and its enable, and on holds placed', async () => {
    const quiet = await createCustomer(t);
    const before = await countRows(t, ['customer_notifications']);
    await disableCustomer(t, quiet.id, support.header, {
      reason: INTERNAL,
      notify_customer: false,
    }).expect(200);
    // The lift of a hold placed with notify_customer false is not told either.
    await enableCustomer(t, quiet.id, support.header).expect(200);
    await placeHold(t, quiet.id, support.header, {
      reason_code: 'other',
      starts_at: inFuture(HOUR),
      notify_customer: false,
    }).expect(201);
    const quietActive = await createCustomer(t);
    await placeHold(t, quietActive.id, support.header, {
      reason_code: 'other',
      notify_customer: false,
    }).expect(201);
    // Written in the events' own transactions: none exists once the answers are in.
    expect(await countRows(t, ['customer_notifications'])).toEqual(before);
    const [{ notify }] = await t.db.query<{ notify: boolean }[]>(
      'SELECT bool_or(notify_customer) AS notify FROM holds WHERE customer_id = ANY($1)',
      [[quiet.id, quietActive.id]],
    );
    expect(notify).toBe(false);

    // A notified change after them is sent; by then the quiet ones would have been too.
    const loud = await createCustomer(t);
    await disableCustomer(t, loud.id, support.header).expect(200);
    await smtp.waitFor(loud.email);
    await sleep(200);
    expect(smtp.to(quiet.email)).toEqual([]);
    expect(smtp.to(quietActive.email)).toEqual([]);
    expect((await listNotifications(t, quiet.id, reader.header)).data).toEqual([]);
  });

  it('retries a refused email on EMAIL_RETRY_SCHEDULE and sends it once, with the same Message-ID at every attempt', async () => {
    const customer = await createCustomer(t);
    smtp.refuse(customer.email, 2);
    await disableCustomer(t, customer.id, support.header).expect(200);

    const [listed] = await settled(t, customer.id, reader.header);
    expect(listed).toMatchObject({ state: 'sent', attempts: 3, next_attempt_at: null });
    // The last failure stays on record once sent.
    expect(listed.last_error).toMatch(/451/);
    expect(listed.last_error).toMatch(/Mailbox busy/);
    await sleep(300);
    expect(smtp.to(customer.email)).toHaveLength(1);
    const refused = smtp.refused.filter((m) => m.to.includes(customer.email));
    expect(refused).toHaveLength(2);
    const ids = [...refused, ...smtp.to(customer.email)].map((m) => m.headers['message-id']);
    expect(new Set(ids)).toEqual(new Set([`<notification-${listed.id}@acme.test>`]));
  });

  it('gives up after the last retry: failed, with its attempts and last error, and sends nothing more', async () => {
    const customer = await createCustomer(t);
    smtp.refuse(customer.email, 10);
    await disableCustomer(t, customer.id, support.header).expect(200);

    const [listed] = await settled(t, customer.id, reader.header);
    expect(listed).toMatchObject({
      state: 'failed',
      attempts: 3,
      sent_at: null,
      next_attempt_at: null,
    });
    expect(listed.last_error).toMatch(/451/);
    await sleep(300);
    expect(smtp.refused.filter((m) => m.to.includes(customer.email))).toHaveLength(3);
    expect(smtp.to(customer.email)).toEqual([]);
  });

  it('pages a customer’s notifications newest first', async () => {
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    await enableCustomer(t, customer.id, support.header).expect(200);
    await disableCustomer(t, customer.id, support.header).expect(200);
    const all = await settled(t, customer.id, reader.header, 3);
    expect(all.map((n) => n.kind)).toEqual([
      'customer_disabled',
      'customer_enabled',
      'customer_disabled',
    ]);

    const first = await listNotifications(t, customer.id, reader.header, '?limit=2');
    expect(first.data.map((n) => n.id)).toEqual(all.slice(0, 2).map((n) => n.id));
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await listNotifications(
      t,
      customer.id,
      reader.header,
      `?limit=2&cursor=${encodeURIComponent(first.next_cursor!)}`,
    );
    expect(second.data.map((n) => n.id)).toEqual([all[2].id]);
    expect(second.next_cursor).toBeNull();
  });

  it('refuses bad input on GET notifications with codes, and changes nothing', async () => {
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header).expect(200);
    await settled(t, customer.id, reader.header);
    const tables = ['customer_notifications', 'events', 'holds'];
    const before = await countRows(t, tables);
    const get = (path: string) => request(t.http).get(path).set(reader.header);

    const malformed = await get(`/api/v1/customers/${MALFORMED_ID}/notifications`).expect(400);
    expect(malformed.body.code).toBe('validation_failed');
    expect(malformed.body.errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
    const unknown = await get(`/api/v1/customers/${UNKNOWN_ID}/notifications`).expect(404);
    expect(unknown.body.code).toBe('not_found');
    for (const query of [
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('["x","y"]').toString('base64url')}`,
      'limit=0',
      'limit=201',
      'limit=ten',
      'state=sent',
    ]) {
      const refused = await get(`/api/v1/customers/${customer.id}/notifications?${query}`);
      expect([query, refused.status]).toEqual([query, 400]);
      expect(refused.body.code).toBe('validation_failed');
    }
    expect(await countRows(t, tables)).toEqual(before);
  });

  it('is for staff: a platform API key is refused, and so is no token', async () => {
    const customer = await createCustomer(t);
    const path = `/api/v1/customers/${customer.id}/notifications`;
    const platform = await createApiKey(t);
    const refused = await request(t.http).get(path).set(platform.header).expect(403);
    expect(refused.body.code).toBe('forbidden');
    await request(t.http).get(path).expect(401);
  });

  it('tells forms that customer emails are on', async () => {
    const answer = await request(t.http)
      .get('/api/v1/hold-reason-codes')
      .set(reader.header)
      .expect(200);
    expect(answer.body.customer_emails).toBe(true);
  });
});

describe('customer emails without SMTP_URL', () => {
  it('writes no notification at all, and says so to forms', async () => {
    const t = await startTestApp({ EMAIL_FROM, OUTBOX_POLL_INTERVAL_MS: '50' });
    try {
      const support = await signIn(t, 'customer_support');
      const customer = await createCustomer(t);
      const before = await countRows(t, ['events', 'customer_notifications']);
      await disableCustomer(t, customer.id, support.header, { reason_code: 'dispute' }).expect(200);
      await enableCustomer(t, customer.id, support.header).expect(200);
      await placeHold(t, customer.id, support.header, {
        reason_code: 'other',
        starts_at: inFuture(HOUR),
      }).expect(201);
      // The events are there; the emails are not.
      const after = await countRows(t, ['events', 'customer_notifications']);
      expect(after.events - before.events).toBe(5);
      expect(after.customer_notifications).toBe(before.customer_notifications);
      expect((await listNotifications(t, customer.id, support.header)).data).toEqual([]);
      const answer = await request(t.http)
        .get('/api/v1/hold-reason-codes')
        .set(support.header)
        .expect(200);
      expect(answer.body.customer_emails).toBe(false);
    } finally {
      await t.close();
    }
  });
});

describe('customer emails across a crash and an SMTP outage', () => {
  let smtp: TestSmtpServer;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });
  afterAll(() => smtp.close());

  const notificationRow = async (t: TestApp, customerId: string) =>
    (
      await t.db.query<
        { state: string; attempts: number; locked_until: Date | null; last_error: string | null }[]
      >(
        'SELECT state, attempts, locked_until, last_error FROM customer_notifications WHERE customer_id = $1',
        [customerId],
      )
    )[0];

  it('sends an email committed by an instance that stopped before sending it, once, after the restart', async () => {
    database = await createTestDatabase();
    // Instance A commits the disable and its email but never sends (it "crashes" right after).
    const a = await startTestApp(emailEnv(smtp, { OUTBOX_DISPATCH: 'false' }), { database });
    const support = await signIn(a, 'customer_support');
    const customer = await createCustomer(a);
    await disableCustomer(a, customer.id, support.header, { reason: INTERNAL }).expect(200);
    expect(await notificationRow(a, customer.id)).toMatchObject({ state: 'pending', attempts: 0 });
    await sleep(300);
    expect(smtp.to(customer.email)).toEqual([]);
    await a.close();

    const b = await startTestApp(emailEnv(smtp), { database });
    try {
      const [mail] = await smtp.waitFor(customer.email);
      expect(mail.subject).toBe('Your account has been suspended');
      expectNoInternalReason(mail);
      await eventually(
        async () => ((await notificationRow(b, customer.id)).state === 'sent' ? true : undefined),
        10_000,
        'the notification recorded as sent',
      );
      expect(await notificationRow(b, customer.id)).toMatchObject({ attempts: 1 });
      await sleep(300);
      expect(smtp.to(customer.email)).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it('retries while the SMTP server is down or refuses the login, keeping credentials out of the log, then sends once', async () => {
    // A port nobody listens on, until the server is started on it.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const password = 'pa55-word-of-the-mailer';
    const t = await startTestApp(
      emailEnv(
        { url: `smtp://mailer-user:${password}@127.0.0.1:${port}` },
        { EMAIL_RETRY_SCHEDULE: Array(20).fill('300ms').join(',') },
      ),
    );
    let late: TestSmtpServer | undefined;
    try {
      const support = await signIn(t, 'customer_support');
      const customer = await createCustomer(t);
      await disableCustomer(t, customer.id, support.header).expect(200);

      const down = await eventually(
        async () => {
          const row = await notificationRow(t, customer.id);
          return row.attempts >= 1 ? row : undefined;
        },
        10_000,
        'a first failed attempt',
      );
      expect(down.state).toBe('pending');
      expect(down.last_error).toMatch(/ECONNREFUSED/);

      // Up, but refusing the login with a message that quotes it.
      late = await startSmtpServer(port);
      late.authFailure = `Bad login mailer-user / ${password}`;
      const refusedLogin = await eventually(
        async () => {
          const row = await notificationRow(t, customer.id);
          // The reply code standing alone: a refused connection's port (127.0.0.1:35351) holds
          // the same digits.
          return row.last_error && /\b535\b/.test(row.last_error) ? row : undefined;
        },
        10_000,
        'an attempt refused at login',
      );
      expect(refusedLogin.state).toBe('pending');
      expect(refusedLogin.last_error).not.toContain(password);
      expect(refusedLogin.last_error).not.toContain('mailer-user');
      expect(refusedLogin.last_error).toContain('***');
      expect(late.logins[0]).toEqual({ username: 'mailer-user', password });

      late.authFailure = null;
      await late.waitFor(customer.email);
      const sent = await eventually(
        async () => {
          const row = await notificationRow(t, customer.id);
          return row.state === 'sent' ? row : undefined;
        },
        10_000,
        'the notification recorded as sent',
      );
      expect(sent.attempts).toBeGreaterThanOrEqual(3);
      await sleep(300);
      expect(late.to(customer.email)).toHaveLength(1);
    } finally {
      await t.close();
      await late?.close();
    }
  });

  it('stops promptly on shutdown while the SMTP server hangs, handing the email back to the queue', async () => {
    const hanging = await startSmtpServer();
    database = await createTestDatabase();
    const t = await startTestApp(emailEnv(hanging), { database });
    const support = await signIn(t, 'customer_support');
    const customer = await createCustomer(t);
    hanging.hang(customer.email);
    try {
      await disableCustomer(t, customer.id, support.header).expect(200);
      await eventually(
        () => Promise.resolve(hanging.held.length > 0 ? true : undefined),
        10_000,
        'the message received and left unanswered',
      );
      const row = await notificationRow(t, customer.id);
      expect(row).toMatchObject({ state: 'pending', attempts: 0 });
      expect(row.locked_until).not.toBeNull();

      const started = Date.now();
      await t.close();
      // The send waits up to 30 s for an answer; shutdown does not.
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await hanging.close();
    }
    // Not an attempt: released, for the next instance to send at once.
    const [after] = await queryAs<{ state: string; attempts: number; locked_until: Date | null }>(
      database.url,
      'SELECT state, attempts, locked_until FROM customer_notifications WHERE customer_id = $1',
      [customer.id],
    );
    expect(after).toEqual({ state: 'pending', attempts: 0, locked_until: null });
  });
});

describe('customer emails when a scheduled hold starts', () => {
  it('warns when the hold is placed, and tells the customer it is disabled when it starts', async () => {
    const smtp = await startSmtpServer();
    const clock = new TestClock();
    const t = await startTestApp(emailEnv(smtp, { HOLD_SCHEDULER_INTERVAL_MS: '50' }), { clock });
    try {
      const support = await signIn(t, 'customer_support');
      const customer = await createCustomer(t, { name: 'Soon Ltd' });
      await placeHold(t, customer.id, support.header, {
        reason_code: 'compliance',
        reason: INTERNAL,
        starts_at: new Date(clock.now().getTime() + HOUR).toISOString(),
      }).expect(201);
      const [warning] = await smtp.waitFor(customer.email);
      expect(warning.subject).toMatch(/^Your account will be suspended on /);

      clock.advance(HOUR + 1000);
      const mails = await smtp.waitFor(customer.email, 2);
      expect(mails[1].subject).toBe('Your account has been suspended');
      expect(mails[1].text).toContain(COMPLIANCE_TEXT);
      mails.forEach(expectNoInternalReason);
      const listed = await settled(t, customer.id, support.header, 2);
      expect(listed.map((n) => [n.kind, n.state])).toEqual([
        ['customer_disabled', 'sent'],
        ['hold_scheduled', 'sent'],
      ]);
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});
