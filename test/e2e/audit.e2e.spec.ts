import request from 'supertest';
import { AuditLog } from '../../src/audit/entities/audit-log.entity';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { createApiKey } from '../support/api-keys';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase, TEST_ENV } from '../support/test-env';

// The embedded engine has one user: the service cannot run there as a role that owns nothing.
const describeWithRoles = onEmbeddedDatabase() ? describe.skip : describe;

const UNKNOWN_ID = '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c';

interface EntryBody {
  id: string;
  action: string;
  customer_id: string;
  actor: { type: string; id: string; name: string };
  reason: string | null;
  before: { status: string };
  after: { status: string };
  created_at: string;
}

describe('audit log', () => {
  let t: TestApp;
  let support: StaffSession;
  let admin: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    [support, admin, reader] = await Promise.all([
      signIn(t, 'customer_support'),
      signIn(t, 'admin'),
      signIn(t, 'user'),
    ]);
  });
  afterAll(() => t.close());

  const toggle = (
    customerId: string,
    action: 'disable' | 'enable',
    session: StaffSession = support,
    reason?: string,
  ) =>
    request(t.http)
      .post(`/api/v1/customers/${customerId}/${action}`)
      .set(session.header)
      .send(reason === undefined ? {} : { reason })
      .expect(200);

  const list = (query: string) =>
    request(t.http).get(`/api/v1/audit-logs?${query}`).set(reader.header);

  const ids = (body: { data: EntryBody[] }) => body.data.map((e) => e.id);
  /** The status transitions of a page, without the hold entries beside them. */
  const transitions = (body: { data: EntryBody[] }) =>
    body.data.filter((e) => e.action.startsWith('customer.'));

  /** Every entry of a query, walking the keyset pages. */
  async function walk(path: string, limit: number): Promise<EntryBody[]> {
    const seen: EntryBody[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const url: string = `${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await request(t.http).get(url).set(reader.header).expect(200);
      expect(response.body.data.length).toBeLessThanOrEqual(limit);
      seen.push(...(response.body.data as EntryBody[]));
      cursor = response.body.next_cursor;
    } while (cursor);
    return seen;
  }

  describe('append-only in the database', () => {
    let entry: AuditLog;

    beforeAll(async () => {
      const customer = await createCustomer(t);
      await toggle(customer.id, 'disable', support, 'Kept forever');
      entry = await t.db.getRepository(AuditLog).findOneByOrFail({ customerId: customer.id });
    });

    const expectUnchanged = async () =>
      expect(await t.db.getRepository(AuditLog).findOneByOrFail({ id: entry.id })).toEqual(entry);

    describe('even for the owner of the table, the triggers', () => {
      it.each([
        ['UPDATE', `UPDATE audit_logs SET reason = 'rewritten' WHERE id = $1`, true],
        ['DELETE', 'DELETE FROM audit_logs WHERE id = $1', true],
        ['TRUNCATE', 'TRUNCATE audit_logs CASCADE', false],
      ])('refuse %s and keep the entry as it was', async (operation, sql, withId) => {
        await expect(t.asOwner(sql, withId ? [entry.id] : [])).rejects.toThrow(
          `audit_logs is append-only: ${operation} refused`,
        );
        await expectUnchanged();
      });

      it('refuse an UPDATE that touches no column value too', async () => {
        await expect(
          t.asOwner('UPDATE audit_logs SET id = id WHERE id = $1', [entry.id]),
        ).rejects.toThrow('append-only');
      });
    });

    // Triggers bind only those who cannot switch them off: the service's own role must not own
    // the table (MIGRATION_DATABASE_URL does). Every test app runs as such a role.
    describeWithRoles(
      'for the role the service runs as (needs a second role: skipped on the embedded engine, which has one user)',
      () => {
        it('the app is connected as a role that neither owns the table nor is a superuser', async () => {
          const [me] = await t.db.query<{ role: string; superuser: boolean; owner: boolean }[]>(
            `SELECT current_user AS role, rolsuper AS superuser,
                    pg_has_role(current_user, c.relowner, 'MEMBER') AS owner
               FROM pg_roles r, pg_class c
              WHERE r.rolname = current_user AND c.oid = 'audit_logs'::regclass`,
          );
          expect(me).toEqual({
            role: process.env[TEST_ENV.runtimeRole],
            superuser: false,
            owner: false,
          });
        });

        it('the owner could rewrite the log by switching the triggers off (why the app must not be it)', async () => {
          // One statement that rewrites and then rolls itself back by raising what it read.
          await expect(
            t.asOwner(`DO $$ BEGIN
                ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_delete;
                UPDATE audit_logs SET reason = 'rewritten' WHERE id = '${entry.id}';
                RAISE EXCEPTION 'rewritten to: %',
                  (SELECT reason FROM audit_logs WHERE id = '${entry.id}');
              END $$`),
          ).rejects.toThrow('rewritten to: rewritten');
          await expectUnchanged();
        });

        it.each([
          [
            'UPDATE',
            `UPDATE audit_logs SET reason = 'rewritten'`,
            'permission denied for table audit_logs',
          ],
          ['DELETE', 'DELETE FROM audit_logs', 'permission denied for table audit_logs'],
          ['TRUNCATE', 'TRUNCATE audit_logs', 'permission denied for table audit_logs'],
          [
            'DISABLE TRIGGER',
            'ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_delete',
            'must be owner of table audit_logs',
          ],
          [
            'DISABLE TRIGGER ALL',
            'ALTER TABLE audit_logs DISABLE TRIGGER ALL',
            'must be owner of table audit_logs',
          ],
          [
            'DROP TRIGGER',
            'DROP TRIGGER audit_logs_no_update_delete ON audit_logs',
            'must be owner of relation audit_logs',
          ],
          [
            'CREATE TRIGGER',
            `CREATE TRIGGER sneak BEFORE INSERT ON audit_logs
               FOR EACH ROW EXECUTE FUNCTION audit_logs_refuse_change()`,
            'permission denied for table audit_logs',
          ],
          [
            'replacing the trigger function',
            `CREATE OR REPLACE FUNCTION audit_logs_refuse_change() RETURNS trigger
               LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
            'permission denied for schema public',
          ],
          [
            'SET session_replication_role',
            'SET session_replication_role = replica',
            'permission denied to set parameter "session_replication_role"',
          ],
          ['DROP TABLE', 'DROP TABLE audit_logs', 'must be owner of table audit_logs'],
          [
            'RENAME',
            'ALTER TABLE audit_logs RENAME TO audit_logs_old',
            'must be owner of table audit_logs',
          ],
          [
            'CREATE TABLE',
            'CREATE TABLE audit_logs_copy (id uuid)',
            'permission denied for schema public',
          ],
          ['DROP SCHEMA', 'DROP SCHEMA public CASCADE', 'must be owner of schema public'],
          [
            'rewriting the migration history',
            'DELETE FROM migrations',
            'permission denied for table migrations',
          ],
        ])('refuses %s and keeps the entry as it was', async (_operation, sql, refusal) => {
          await expect(t.db.query(sql)).rejects.toThrow(refusal);
          await expectUnchanged();
        });

        it('still writes and reads entries through the API as that role', async () => {
          const customer = await createCustomer(t);
          await toggle(customer.id, 'disable', support, 'Least privilege');
          await toggle(customer.id, 'enable', admin, 'Back');
          const response = await list(`customer_id=${customer.id}`).expect(200);
          expect(response.body.data.map((e: EntryBody) => [e.action, e.reason])).toEqual([
            ['customer.enabled', 'Back'],
            ['hold.lifted', 'Back'],
            ['customer.disabled', 'Least privilege'],
            ['hold.placed', 'Least privilege'],
          ]);
        });
      },
    );
  });

  describe('GET /audit-logs', () => {
    it('answers entries with the contract’s shape', async () => {
      const customer = await createCustomer(t);
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .set('X-Request-Id', 'shape-check-1')
        .set('User-Agent', 'audit-shape/2.0')
        .send({ reason: 'Fraud check' })
        .expect(200);
      const response = await list(`customer_id=${customer.id}`).expect(200);
      const [hold] = (
        await request(t.http).get(`/api/v1/customers/${customer.id}/holds`).set(reader.header)
      ).body.data as { id: string; placed_at: string }[];
      const common = {
        customer_id: customer.id,
        actor: { type: 'user', id: support.user.id, name: support.user.name },
        reason: 'Fraud check',
        hold_id: hold.id,
        effective_at: hold.placed_at,
        request_id: 'shape-check-1',
        ip: expect.stringMatching(/127\.0\.0\.1|::1/),
        user_agent: 'audit-shape/2.0',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        target: null,
        seq: expect.any(Number),
        prev_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      };
      expect(response.body).toEqual({
        data: [
          {
            ...common,
            id: expect.stringMatching(/^[0-9a-f-]{36}$/),
            action: 'customer.disabled',
            before: { status: 'enabled' },
            after: { status: 'disabled' },
          },
          {
            ...common,
            id: expect.stringMatching(/^[0-9a-f-]{36}$/),
            action: 'hold.placed',
            before: { state: null },
            after: { state: 'active' },
          },
        ],
        next_cursor: null,
      });
      // One transaction, two entries: the hold's, then the transition it caused, linked.
      const [transition, placed] = response.body.data as (EntryBody & {
        seq: number;
        prev_hash: string;
        hash: string;
      })[];
      expect(transition.seq).toBe(placed.seq + 1);
      expect(transition.prev_hash).toBe(placed.hash);
    });

    it('records a generated request id when the client sends none, the one echoed to it', async () => {
      const customer = await createCustomer(t);
      const response = await toggle(customer.id, 'disable');
      const echoed = response.headers['x-request-id'];
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      const entries = await list(`customer_id=${customer.id}`).expect(200);
      expect(entries.body.data[0].request_id).toBe(echoed);
    });

    it('records an API key as the actor, with its name', async () => {
      const customer = await createCustomer(t);
      const key = await createApiKey(t, null, 'Billing backend');
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(key.header)
        .send({ reason: 'Unpaid (automated)' })
        .expect(200);
      const entries = await list(`customer_id=${customer.id}`).expect(200);
      expect(entries.body.data[0].actor).toEqual({
        type: 'api_key',
        id: key.id,
        name: 'Billing backend',
      });
    });

    it('filters by customer, actor and action', async () => {
      const [a, b] = [await createCustomer(t), await createCustomer(t)];
      const aDisabled = await toggle(a.id, 'disable', support);
      const aEnabled = await toggle(a.id, 'enable', admin);
      await toggle(b.id, 'disable', admin);
      const entriesOfA = {
        data: transitions((await list(`customer_id=${a.id}`).expect(200)).body),
      };
      expect(entriesOfA.data.map((e: EntryBody) => [e.action, e.actor.id])).toEqual([
        ['customer.enabled', admin.user.id],
        ['customer.disabled', support.user.id],
      ]);
      expect(aDisabled.body.version).toBe(2);
      expect(aEnabled.body.version).toBe(3);

      const byActor = (await list(`actor_id=${admin.user.id}`).expect(200)).body;
      expect(byActor.data.every((e: EntryBody) => e.actor.id === admin.user.id)).toBe(true);
      expect(byActor.data.map((e: EntryBody) => e.customer_id)).toEqual(
        expect.arrayContaining([a.id, b.id]),
      );

      const byAction = (await list('action=customer.enabled&limit=200').expect(200)).body;
      expect(byAction.data.every((e: EntryBody) => e.action === 'customer.enabled')).toBe(true);
      expect(ids(byAction)).toContain(entriesOfA.data[0].id);

      const combined = (
        await list(`customer_id=${a.id}&actor_id=${support.user.id}&action=customer.disabled`)
      ).body;
      expect(ids(combined)).toEqual([entriesOfA.data[1].id]);

      expect((await list(`customer_id=${UNKNOWN_ID}`).expect(200)).body).toEqual({
        data: [],
        next_cursor: null,
      });
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const customer = await createCustomer(t);
      for (const action of ['disable', 'enable', 'disable', 'enable'] as const) {
        await toggle(customer.id, action);
      }
      const all = transitions(
        (await list(`customer_id=${customer.id}&action=customer.disabled`).expect(200)).body,
      ).concat(
        transitions(
          (await list(`customer_id=${customer.id}&action=customer.enabled`).expect(200)).body,
        ),
      );
      all.sort((x, y) => Date.parse(y.created_at) - Date.parse(x.created_at));
      const [fourth, third, second, first] = all;
      expect(new Set(all.map((e) => e.created_at)).size).toBe(4);

      const window = await list(
        `customer_id=${customer.id}&from=${second.created_at}&to=${fourth.created_at}`,
      ).expect(200);
      expect(transitions(window.body).map((e) => e.id)).toEqual([third.id, second.id]);

      const fromOnly = await list(`customer_id=${customer.id}&from=${third.created_at}`);
      expect(transitions(fromOnly.body).map((e) => e.id)).toEqual([fourth.id, third.id]);
      const toOnly = await list(`customer_id=${customer.id}&to=${second.created_at}`);
      expect(transitions(toOnly.body).map((e) => e.id)).toEqual([first.id]);
    });

    it('walks every entry exactly once, newest first, through keyset pages', async () => {
      const customer = await createCustomer(t);
      for (let i = 0; i < 7; i++) {
        await toggle(customer.id, i % 2 === 0 ? 'disable' : 'enable', support, `step ${i}`);
      }
      // Each step writes its hold entry, then the transition: two entries a step.
      const seen = await walk(`/api/v1/audit-logs?customer_id=${customer.id}`, 3);
      expect(seen.map((e) => e.reason)).toEqual(
        [0, 1, 2, 3, 4, 5, 6].reverse().flatMap((i) => [`step ${i}`, `step ${i}`]),
      );
      expect(new Set(seen.map((e) => e.id)).size).toBe(14);

      // Unfiltered, the pages stay newest first across customers.
      const everything = await walk('/api/v1/audit-logs', 50);
      expect(new Set(everything.map((e) => e.id)).size).toBe(everything.length);
      const times = everything.map((e) => Date.parse(e.created_at));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(everything.length).toBe(await t.db.getRepository(AuditLog).count());
    });

    it.each([
      ['customer_id=nope', 'customer_id'],
      ['actor_id=123', 'actor_id'],
      ['action=customer.deleted', 'action'],
      ['from=yesterday', 'from'],
      ['to=2026-13-45T00:00:00Z', 'to'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${Buffer.from('["2026-01-01T00:00:00.000Z","x"]').toString('base64url')}`, 'cursor'],
      ['sort=oldest', 'sort'],
    ])('refuses ?%s with 400 naming %s', async (query, field) => {
      const response = await list(query).expect(400);
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });

  describe('GET /customers/{id}/audit-logs', () => {
    it('answers only that customer’s entries, newest first, in pages', async () => {
      const [customer, other] = [await createCustomer(t), await createCustomer(t)];
      await toggle(customer.id, 'disable', support, 'one');
      await toggle(other.id, 'disable', support, 'other');
      await toggle(customer.id, 'enable', support, 'two');
      await toggle(customer.id, 'disable', support, 'three');
      const seen = await walk(`/api/v1/customers/${customer.id}/audit-logs`, 2);
      expect(transitions({ data: seen }).map((e) => [e.reason, e.customer_id])).toEqual([
        ['three', customer.id],
        ['two', customer.id],
        ['one', customer.id],
      ]);
      expect(seen).toHaveLength(6);
    });

    it('answers each entry as GET /audit-logs?customer_id= does: same fields, values and order', async () => {
      const customer = await createCustomer(t);
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/disable`)
        .set(support.header)
        .set('user-agent', 'Agent "quoted" \\ backslash')
        .send({ reason: 'Line one\nline "two" \u0001 — ü 😀' })
        .expect(200);
      await toggle(customer.id, 'enable', support);
      // What no HTTP call writes for a customer: a target, nested and numeric before/after,
      // no actor id, no request details; the database's own trigger chains it.
      await t.asOwner(
        `INSERT INTO audit_logs (action, customer_id, actor_type, actor_id, actor_name, reason,
                                 before, after, target_type, target_id, effective_at)
         VALUES ('staff_user.updated', $1, 'system', NULL, 'system', NULL,
                 '{"role": "user", "limits": {"a": 1.5, "b": [1, null, "x"]}, "active": true}',
                 '{"role": "admin", "limits": {}, "active": false}',
                 'staff_user', $2, '2026-01-02T03:04:05.006Z')`,
        [customer.id, UNKNOWN_ID],
      );
      for (const limit of [1, 2, 50]) {
        const own = await walk(`/api/v1/customers/${customer.id}/audit-logs`, limit);
        const listed = await walk(`/api/v1/audit-logs?customer_id=${customer.id}`, limit);
        expect(own.length).toBeGreaterThanOrEqual(3);
        expect(own).toEqual(listed);
        // Same fields in the same order, nested objects included.
        expect(JSON.stringify(own)).toBe(JSON.stringify(listed));
      }
      const first = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/audit-logs?limit=1`)
        .set(reader.header)
        .expect(200);
      expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
      const listedFirst = await list(`customer_id=${customer.id}&limit=1`).expect(200);
      expect(first.body.next_cursor).toBe(listedFirst.body.next_cursor);
    });

    it('answers an empty page for a customer never disabled', async () => {
      const customer = await createCustomer(t);
      const response = await request(t.http)
        .get(`/api/v1/customers/${customer.id}/audit-logs`)
        .set(reader.header)
        .expect(200);
      expect(response.body).toEqual({ data: [], next_cursor: null });
    });

    it('answers 404 not_found for an unknown customer and 400 for a malformed id', async () => {
      const unknown = await request(t.http)
        .get(`/api/v1/customers/${UNKNOWN_ID}/audit-logs`)
        .set(reader.header)
        .expect(404);
      expect(unknown.body.code).toBe('not_found');
      const malformed = await request(t.http)
        .get('/api/v1/customers/42/audit-logs')
        .set(reader.header)
        .expect(400);
      expect(malformed.body).toMatchObject({
        code: 'validation_failed',
        errors: [{ field: 'id' }],
      });
    });
  });
});
