import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { AuditLog } from '../../src/audit/entities/audit-log.entity';
import { CustomerChanges } from '../../src/changes/customer-changes';
import { Customer } from '../../src/customers/entities/customer.entity';
import { Note } from '../../src/notes/entities/note.entity';
import { NotesService } from '../../src/notes/notes.service';
import { countRows, createCustomer, signIn, StaffSession } from '../support/factories';
import { eventually, sleep } from '../support/holds';
import { BURST_ENV, startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';
const TABLES = ['customers', 'audit_logs', 'customer_notes', 'holds'];

describe('disable and enable customers', () => {
  let t: TestApp;
  let support: StaffSession;
  let reader: StaffSession;
  let changed: (string | null)[];
  let stopListening: () => void;

  beforeAll(async () => {
    // BURST_ENV: the concurrent toggles below.
    t = await startTestApp(BURST_ENV);
    support = await signIn(t, 'customer_support');
    reader = await signIn(t, 'user');
    stopListening = t.app.get(CustomerChanges).onLocalChange((id) => changed.push(id));
  });
  beforeEach(() => {
    changed = [];
  });
  afterAll(async () => {
    stopListening();
    await t.close();
  });

  const customerRow = (id: string) => t.db.getRepository(Customer).findOneByOrFail({ id });
  const entriesOf = (customerId: string) =>
    t.db.getRepository(AuditLog).find({ where: { customerId }, order: { createdAt: 'ASC' } });
  const notesOf = (customerId: string) =>
    t.db.getRepository(Note).find({ where: { customerId }, order: { createdAt: 'ASC' } });
  const disable = (id: string, body: object = {}, session = support) =>
    request(t.http).post(`/api/v1/customers/${id}/disable`).set(session.header).send(body);
  const enable = (id: string, body: object = {}, session = support) =>
    request(t.http).post(`/api/v1/customers/${id}/enable`).set(session.header).send(body);

  describe('POST /customers/{id}/disable', () => {
    it('disables at once with a manual hold, pauses billing by default and writes hold.placed and customer.disabled with the request’s origin', async () => {
      const customer = await createCustomer(t);
      const response = await disable(customer.id, { reason: '  Unpaid invoice INV-7  ' })
        .set('X-Request-Id', 'req-disable-1')
        .set('User-Agent', 'status-test/1.0')
        .expect(200);

      expect(response.headers['x-request-id']).toBe('req-disable-1');
      expect(response.body).toMatchObject({
        id: customer.id,
        status: 'disabled',
        disabled_reason: 'Unpaid invoice INV-7',
        billing_paused: true,
        version: 2,
      });
      expect(Date.parse(response.body.disabled_at)).toBeGreaterThan(Date.now() - 60_000);

      expect(await customerRow(customer.id)).toMatchObject({
        status: 'disabled',
        disabledReason: 'Unpaid invoice INV-7',
        billingPaused: true,
        version: 2,
      });
      const [placed, entry, ...others] = await entriesOf(customer.id);
      expect(others).toEqual([]);
      const origin = {
        customerId: customer.id,
        actorType: 'user',
        actorId: support.user.id,
        actorName: support.user.name,
        reason: 'Unpaid invoice INV-7',
        requestId: 'req-disable-1',
        userAgent: 'status-test/1.0',
      };
      const [hold] = response.body.holds;
      expect(response.body.holds).toEqual([
        {
          id: hold.id,
          source: 'manual',
          reason_code: 'other',
          starts_at: hold.starts_at,
          ends_at: null,
        },
      ]);
      expect(placed).toMatchObject({
        ...origin,
        action: 'hold.placed',
        holdId: hold.id,
        before: { state: null },
        after: { state: 'active' },
      });
      expect(entry).toMatchObject({
        ...origin,
        action: 'customer.disabled',
        holdId: hold.id,
        before: { status: 'enabled' },
        after: { status: 'disabled' },
      });
      expect(entry.effectiveAt).toEqual(new Date(hold.starts_at));
      expect(entry.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(changed).toEqual([customer.id]);

      const next = await request(t.http)
        .get(`/api/v1/customers/${customer.id}`)
        .set(reader.header)
        .expect(200);
      expect(next.body.status).toBe('disabled');
    });

    it('adds the reason to the customer’s notes, by the actor and linked to the hold.placed entry', async () => {
      const customer = await createCustomer(t);
      await disable(customer.id, { reason: 'Chargeback opened' }).expect(200);
      const [entry] = await entriesOf(customer.id);
      expect(entry.action).toBe('hold.placed');
      const notes = await notesOf(customer.id);
      expect(notes).toEqual([
        expect.objectContaining({
          body: 'Chargeback opened',
          authorType: 'user',
          authorId: support.user.id,
          authorName: support.user.name,
          auditLogId: entry.id,
        }),
      ]);
    });

    it('accepts a request without a body', async () => {
      const customer = await createCustomer(t);
      const disabled = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .expect(200);
      expect(disabled.body).toMatchObject({ status: 'disabled', disabled_reason: null });
      const enabled = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/enable`)
        .set(support.header)
        .expect(200);
      expect(enabled.body.status).toBe('enabled');
      expect((await entriesOf(customer.id)).map((e) => e.action)).toEqual([
        'hold.placed',
        'customer.disabled',
        'hold.lifted',
        'customer.enabled',
      ]);
    });

    it('keeps billing running when pause_billing is false', async () => {
      const customer = await createCustomer(t);
      const response = await disable(customer.id, { pause_billing: false }).expect(200);
      expect(response.body).toMatchObject({ status: 'disabled', billing_paused: false });
      expect((await customerRow(customer.id)).billingPaused).toBe(false);
    });

    it('records no reason and adds no note when the reason is absent, null or blank', async () => {
      for (const body of [{}, { reason: null }, { reason: '   ' }]) {
        const customer = await createCustomer(t);
        const response = await disable(customer.id, body).expect(200);
        expect(response.body.disabled_reason).toBeNull();
        const entries = await entriesOf(customer.id);
        expect(entries.map((e) => e.reason)).toEqual([null, null]);
        expect(await notesOf(customer.id)).toEqual([]);
      }
    });

    it('accepts a reason of exactly 1000 characters', async () => {
      const customer = await createCustomer(t);
      const reason = 'r'.repeat(1000);
      const response = await disable(customer.id, { reason }).expect(200);
      expect(response.body.disabled_reason).toBe(reason);
      expect((await notesOf(customer.id)).map((n) => n.body)).toEqual([reason]);
    });

    it('answers 200 with the customer as it is for a disabled customer, and changes and records nothing', async () => {
      const customer = await createCustomer(t);
      const first = await disable(customer.id, { reason: 'First' }).expect(200);
      changed = [];
      const before = await countRows(t, TABLES);

      const again = await disable(customer.id, { reason: 'Second', pause_billing: false }).expect(
        200,
      );
      expect(again.body).toEqual(first.body);
      expect(await countRows(t, TABLES)).toEqual(before);
      expect(await customerRow(customer.id)).toMatchObject({
        disabledReason: 'First',
        billingPaused: true,
        version: 2,
      });
      expect(changed).toEqual([]);
    });
  });

  describe('POST /customers/{id}/enable', () => {
    it('enables at once by lifting the hold, resumes billing, clears the disable and writes hold.lifted and customer.enabled', async () => {
      const customer = await createCustomer(t);
      await disable(customer.id, { reason: 'Unpaid' }).expect(200);
      changed = [];

      const response = await enable(customer.id, { reason: 'Paid in full' }).expect(200);
      expect(response.body).toMatchObject({
        status: 'enabled',
        disabled_at: null,
        disabled_reason: null,
        billing_paused: false,
        version: 3,
      });
      expect(await customerRow(customer.id)).toMatchObject({
        status: 'enabled',
        disabledAt: null,
        disabledReason: null,
        billingPaused: false,
        version: 3,
      });
      const entries = await entriesOf(customer.id);
      expect(entries.map((e) => [e.action, e.before, e.after, e.reason])).toEqual([
        ['hold.placed', { state: null }, { state: 'active' }, 'Unpaid'],
        ['customer.disabled', { status: 'enabled' }, { status: 'disabled' }, 'Unpaid'],
        ['hold.lifted', { state: 'active' }, { state: 'lifted' }, 'Paid in full'],
        ['customer.enabled', { status: 'disabled' }, { status: 'enabled' }, 'Paid in full'],
      ]);
      expect(response.body.holds).toEqual([]);
      const notes = await notesOf(customer.id);
      expect(notes.map((n) => [n.body, n.auditLogId])).toEqual([
        ['Unpaid', entries[0].id],
        ['Paid in full', entries[3].id],
      ]);
      expect(changed).toEqual([customer.id]);
    });

    it('answers 200 with the customer as it is for an enabled customer, and changes and records nothing', async () => {
      const customer = await createCustomer(t);
      const before = await countRows(t, TABLES);
      const response = await enable(customer.id, { reason: 'Just in case' }).expect(200);
      expect(response.body).toMatchObject({ id: customer.id, status: 'enabled', version: 1 });
      expect(response.body.updated_at).toBe(customer.updatedAt.toISOString());
      expect(await countRows(t, TABLES)).toEqual(before);
      expect(changed).toEqual([]);
    });
  });

  // A second connection holds the customer's row: the embedded engine serves one at a time.
  const describeOnServer = onEmbeddedDatabase() ? describe.skip : describe;
  describeOnServer('a change that changes nothing takes no lock', () => {
    /** The customer's row, locked FOR UPDATE by a transaction of its own until the release. */
    const lockRow = async (id: string): Promise<() => Promise<void>> => {
      const client = new Client({ connectionString: t.database.url });
      await client.connect();
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [id]);
      return async () => {
        await client.query('ROLLBACK');
        await client.end();
      };
    };
    /** How many of this database's backends wait for a lock now. */
    const lockWaiters = async () =>
      (
        await t.asOwner<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      )[0].n;

    /**
     * The answer to `pending`, which must come without waiting for a lock: fails as soon as a
     * backend of this database waits for one before the answer is in.
     */
    const answeredWithoutWaiting = async (pending: request.Test): Promise<request.Response> => {
      let answer: { response: request.Response } | { error: unknown } | undefined;
      void pending.then(
        (response) => (answer = { response }),
        (error: unknown) => (answer = { error }),
      );
      while (answer === undefined) {
        if ((await lockWaiters()) > 0) throw new Error('The request waited for a lock');
        await sleep(5);
      }
      if ('error' in answer) throw answer.error;
      return answer.response;
    };

    it('answers a repeated disable, and an enable of an enabled customer, while another transaction holds the customer’s row', async () => {
      const enabledOne = await createCustomer(t);
      const disabledOne = await createCustomer(t);
      const first = await disable(disabledOne.id, { reason: 'First' }).expect(200);
      changed = [];
      const releases = [await lockRow(enabledOne.id), await lockRow(disabledOne.id)];
      try {
        const before = await countRows(t, TABLES);
        const again = await answeredWithoutWaiting(disable(disabledOne.id, { reason: 'Again' }));
        expect(again.status).toBe(200);
        expect(again.body).toEqual(first.body);
        const enabled = await answeredWithoutWaiting(
          enable(enabledOne.id, { reason: 'Just in case' }),
        );
        expect(enabled.status).toBe(200);
        expect(enabled.body).toMatchObject({ id: enabledOne.id, status: 'enabled', version: 1 });
        expect(await countRows(t, TABLES)).toEqual(before);
        expect(changed).toEqual([]);
      } finally {
        for (const release of releases) await release();
      }
    });

    it('still locks for a change: an enable of a disabled customer waits for the row, then lifts', async () => {
      const customer = await createCustomer(t);
      await disable(customer.id, { reason: 'Unpaid' }).expect(200);
      const release = await lockRow(customer.id);
      let answered = false;
      const enabling = enable(customer.id, { reason: 'Paid' }).then((response) => {
        answered = true;
        return response;
      });
      try {
        await eventually(
          async () => ((await lockWaiters()) > 0 ? true : undefined),
          10_000,
          'the enable waiting for the customer’s row',
        );
        expect(answered).toBe(false);
      } finally {
        await release();
      }
      const response = await enabling;
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'enabled', holds: [] });
      expect((await entriesOf(customer.id)).map((e) => e.action)).toEqual([
        'hold.placed',
        'customer.disabled',
        'hold.lifted',
        'customer.enabled',
      ]);
    });

    it('answers an unknown customer 404 and a malformed id 400, as the locked path does', async () => {
      const unknown = await disable(UNKNOWN_ID).expect(404);
      expect(unknown.body.code).toBe('not_found');
      expect((await enable(UNKNOWN_ID).expect(404)).body.code).toBe('not_found');
      const before = await countRows(t, TABLES);
      for (const change of [disable, enable]) {
        const malformed = await change('42').expect(400);
        expect(malformed.body).toMatchObject({
          code: 'validation_failed',
          errors: [{ field: 'id' }],
        });
      }
      expect(await countRows(t, TABLES)).toEqual(before);
    });
  });

  describe('bad requests change nothing', () => {
    let customer: Customer;
    let snapshot: Customer;

    beforeAll(async () => {
      customer = await createCustomer(t);
      snapshot = await customerRow(customer.id);
    });

    it.each([
      ['disable', 'a reason of 1001 characters', { reason: 'x'.repeat(1001) }, 'reason'],
      [
        'disable',
        'a padded reason of 1001 characters',
        { reason: ` ${'x'.repeat(1001)} ` },
        'reason',
      ],
      ['disable', 'a numeric reason', { reason: 42 }, 'reason'],
      ['disable', 'a reason as an array', { reason: ['a'] }, 'reason'],
      ['disable', 'pause_billing as a string', { pause_billing: 'yes' }, 'pause_billing'],
      ['disable', 'pause_billing as a number', { pause_billing: 1 }, 'pause_billing'],
      ['disable', 'an unknown field', { status: 'disabled' }, 'status'],
      ['enable', 'pause_billing (disable only)', { pause_billing: true }, 'pause_billing'],
      ['enable', 'a reason of 1001 characters', { reason: 'x'.repeat(1001) }, 'reason'],
    ])('POST %s with %s answers 400 naming the field', async (action, _case, body, field) => {
      const before = await countRows(t, TABLES);
      const response = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/${action}`)
        .set(support.header)
        .send(body)
        .expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, TABLES)).toEqual(before);
      expect(await customerRow(customer.id)).toEqual(snapshot);
      expect(changed).toEqual([]);
    });

    it.each(['disable', 'enable'])(
      'POST %s answers 400 for a malformed id and 404 for an unknown one',
      async (action) => {
        const before = await countRows(t, TABLES);
        const malformed = await request(t.http)
          .post(`/api/v1/customers/not-a-uuid/${action}`)
          .set(support.header)
          .send({ reason: 'x' })
          .expect(400);
        expect(malformed.body).toMatchObject({
          code: 'validation_failed',
          errors: [{ field: 'id' }],
        });
        const unknown = await request(t.http)
          .post(`/api/v1/customers/${UNKNOWN_ID}/${action}`)
          .set(support.header)
          .send({ reason: 'x' })
          .expect(404);
        expect(unknown.body.code).toBe('not_found');
        expect(await countRows(t, TABLES)).toEqual(before);
      },
    );

    it('refuses a read-only user with 403 and no credentials with 401, changing nothing', async () => {
      const before = await countRows(t, TABLES);
      const refused = await disable(customer.id, { reason: 'x' }, reader).expect(403);
      expect(refused.body.code).toBe('forbidden');
      const anonymous = await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .send({ reason: 'x' })
        .expect(401);
      expect(anonymous.body.code).toBe('unauthenticated');
      expect(await countRows(t, TABLES)).toEqual(before);
      expect(await customerRow(customer.id)).toEqual(snapshot);
    });
  });

  describe('one transaction for the change and its audit entry', () => {
    let errorLog: jest.SpyInstance;
    // The failures below are on purpose: their 500s are logged, which is checked, not printed.
    beforeEach(() => {
      errorLog = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => errorLog.mockRestore());

    it('rolls the status change back when the audit insert fails', async () => {
      const customer = await createCustomer(t);
      const snapshot = await customerRow(customer.id);
      const before = await countRows(t, TABLES);
      // The test's own database refuses audit entries of this customer only (as the owner: the
      // app's role may not add triggers).
      await t.asOwner(`
        CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit insert refused by the test'; END $$`);
      await t.asOwner(`
        CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_logs FOR EACH ROW
        WHEN (NEW.customer_id = '${customer.id}') EXECUTE FUNCTION test_refuse_audit()`);
      try {
        const response = await disable(customer.id, { reason: 'Never recorded' }).expect(500);
        expect(response.body.code).toBe('internal_error');
        expect(errorLog).toHaveBeenCalledWith(
          expect.stringContaining(`/customers/${customer.id}/disable failed`),
          expect.stringContaining('audit insert refused by the test'),
        );
      } finally {
        await t.asOwner('DROP TRIGGER test_refuse_audit ON audit_logs');
        await t.asOwner('DROP FUNCTION test_refuse_audit()');
      }
      expect(await customerRow(customer.id)).toEqual(snapshot);
      expect(await countRows(t, TABLES)).toEqual(before);
      expect(changed).toEqual([]);

      // Once the audit log takes entries again, the same request goes through.
      await disable(customer.id, { reason: 'Recorded' }).expect(200);
      expect((await entriesOf(customer.id)).map((e) => e.reason)).toEqual(['Recorded', 'Recorded']);
    });

    it('rolls the status change and its audit entry back when the reason’s note fails', async () => {
      const customer = await createCustomer(t);
      await disable(customer.id).expect(200);
      changed = [];
      const snapshot = await customerRow(customer.id);
      const before = await countRows(t, TABLES);
      const notes = t.app.get(NotesService);
      const spy = jest
        .spyOn(notes, 'addForAuditEntry')
        .mockRejectedValueOnce(new Error('note insert failed'));
      try {
        await enable(customer.id, { reason: 'Paid' }).expect(500);
      } finally {
        spy.mockRestore();
      }
      expect(await customerRow(customer.id)).toEqual(snapshot);
      expect(await countRows(t, TABLES)).toEqual(before);
      expect(changed).toEqual([]);
    });
  });

  describe('concurrent toggles', () => {
    let baseUrl: string;
    let server: TestApp;
    let stopServerListening: (() => void) | undefined;

    beforeAll(async () => {
      // The embedded engine's socket server can interleave the protocol messages of two
      // connections outside a transaction (it runs one transaction at a time anyway): there the
      // requests share one connection, which also proves no use case needs a second one.
      if (onEmbeddedDatabase()) {
        server = await startTestApp(
          { DATABASE_POOL_SIZE: '1', ...BURST_ENV },
          { database: t.database },
        );
        stopServerListening = server.app
          .get(CustomerChanges)
          .onLocalChange((id) => changed.push(id));
      } else {
        server = t;
      }
      // One listening server for all concurrent requests (supertest would open one per request).
      await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
      const address = server.http.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      baseUrl = `http://127.0.0.1:${address.port}`;
    });
    afterAll(async () => {
      stopServerListening?.();
      if (server !== t) await server.close();
    });

    it('leaves alternating audit entries, one per real change, the last matching the final status', async () => {
      const customer = await createCustomer(t);
      const requests = Array.from({ length: 60 }, (_, i) =>
        request(baseUrl)
          .post(`/api/v1/customers/${customer.id}/${i % 2 === 0 ? 'disable' : 'enable'}`)
          .set(support.header)
          .send({ reason: `toggle ${i}` }),
      );
      const responses = await Promise.all(requests);
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));

      const final = await customerRow(customer.id);
      const page = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/audit-logs?limit=200`)
        .set(reader.header)
        .expect(200);
      const all = [...page.body.data].reverse() as {
        action: string;
        before: { status: string };
        after: { status: string };
        reason: string;
        id: string;
      }[];
      const entries = all.filter((e) => e.action.startsWith('customer.'));

      expect(entries.length).toBeGreaterThan(0);
      expect(entries.length).toBe(final.version - 1);
      expect(entries[0].before.status).toBe('enabled');
      for (const [i, entry] of entries.entries()) {
        expect(entry.before.status).not.toBe(entry.after.status);
        if (i > 0) expect(entry.before.status).toBe(entries[i - 1].after.status);
      }
      expect(entries[entries.length - 1].after.status).toBe(final.status);
      expect(changed.filter((id) => id === customer.id)).toHaveLength(entries.length);

      // Every real change left its reason as a note linked to an entry of its own (the hold
      // placed, or the enable) carrying that reason.
      const notes = await notesOf(customer.id);
      expect(notes).toHaveLength(entries.length);
      const byId = new Map(all.map((e) => [e.id, e]));
      for (const note of notes) expect(byId.get(note.auditLogId!)?.reason).toBe(note.body);
      expect(new Set(notes.map((n) => n.auditLogId)).size).toBe(notes.length);
    });

    it('places exactly one hold and records one transition for twenty concurrent disables of one customer', async () => {
      const customer = await createCustomer(t);
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(baseUrl)
            .post(`/api/v1/customers/${customer.id}/disable`)
            .set(support.header)
            .send({ reason: 'Same reason' }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
      expect(new Set(responses.map((r) => r.body.version))).toEqual(new Set([2]));
      expect((await entriesOf(customer.id)).map((e) => e.action)).toEqual([
        'hold.placed',
        'customer.disabled',
      ]);
      expect(
        await t.db.query('SELECT id FROM holds WHERE customer_id = $1', [customer.id]),
      ).toHaveLength(1);
      expect(await notesOf(customer.id)).toHaveLength(1);
      expect((await customerRow(customer.id)).version).toBe(2);
    });
  });

  describe('review of disabled customers', () => {
    it('lists customers disabled before a time, longest disabled first, with when and why', async () => {
      const marker = `review${Date.now()}`;
      const make = (n: number) => createCustomer(t, { name: `${marker} ${n}` });
      const [oldest, middle, reEnabled, recent, untouched] = await Promise.all(
        [1, 2, 3, 4, 5].map(make),
      );
      // disabled_at is timed to the millisecond: keep the disables apart so their order is known.
      const tick = () => new Promise((resolve) => setTimeout(resolve, 2));
      await disable(oldest.id, { reason: 'Oldest' }).expect(200);
      await tick();
      await disable(middle.id, { reason: 'Middle' }).expect(200);
      await tick();
      await disable(reEnabled.id, { reason: 'Came back' }).expect(200);
      await enable(reEnabled.id).expect(200);
      const cutoff = new Date(Date.now() + 1).toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await disable(recent.id, { reason: 'Too recent' }).expect(200);

      const query = (extra: string) =>
        request(t.http)
          .get(`/api/v1/customers?q=${marker}&status=disabled${extra}`)
          .set(reader.header)
          .expect(200);

      const review = await query(`&disabled_before=${encodeURIComponent(cutoff)}`);
      expect(review.body.data.map((c: { id: string }) => c.id)).toEqual([oldest.id, middle.id]);
      expect(review.body.data[0]).toMatchObject({
        status: 'disabled',
        disabled_reason: 'Oldest',
        disabled_at: expect.any(String),
      });
      expect(Date.parse(review.body.data[0].disabled_at)).toBeLessThanOrEqual(
        Date.parse(review.body.data[1].disabled_at),
      );

      const allDisabled = await query('');
      expect(allDisabled.body.data.map((c: { id: string }) => c.id)).toEqual([
        oldest.id,
        middle.id,
        recent.id,
      ]);
      expect(allDisabled.body.data.map((c: { id: string }) => c.id)).not.toContain(untouched.id);

      // Keyset pages walk the same order.
      const first = await query('&limit=2');
      expect(first.body.data.map((c: { id: string }) => c.id)).toEqual([oldest.id, middle.id]);
      const second = await query(`&limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body.data.map((c: { id: string }) => c.id)).toEqual([recent.id]);
      expect(second.body.next_cursor).toBeNull();
    });
  });

  describe('with BILLING_PAUSE_ON_DISABLE=false', () => {
    let other: TestApp;
    beforeAll(async () => {
      other = await startTestApp({ BILLING_PAUSE_ON_DISABLE: 'false' });
    });
    afterAll(() => other.close());

    it('keeps billing running unless the disable asks to pause it', async () => {
      const session = await signIn(other, 'customer_support');
      const [plain, paused] = [await createCustomer(other), await createCustomer(other)];
      const call = (id: string, body: object) =>
        request(other.http)
          .post(`/api/v1/customers/${id}/disable`)
          .set(session.header)
          .send(body)
          .expect(200);
      expect((await call(plain.id, {})).body.billing_paused).toBe(false);
      expect((await call(paused.id, { pause_billing: true })).body.billing_paused).toBe(true);
    });
  });
});
