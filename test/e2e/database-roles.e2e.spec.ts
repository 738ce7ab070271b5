import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { withUser } from '../../src/database/database-admin';
import {
  auditLogTamperingRights,
  grantRuntimeRole,
  runtimeRoleGrants,
} from '../../src/database/runtime-role';
import {
  createTestDatabase,
  queryAs,
  startTestApp,
  TEST_ADMIN,
  TestApp,
  TestDatabase,
} from '../support/test-app';
import { onEmbeddedDatabase, TEST_ENV } from '../support/test-env';

// The embedded engine has one user: there is no second role to run as.
const describeWithRoles = onEmbeddedDatabase() ? describe.skip : describe;

describe('the database roles documented in the README', () => {
  it('the README gives exactly the grants the service applies', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = /```sql\n-- runtime grants[^\n]*\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    expect(
      block![1]
        .trim()
        .split(';\n')
        .map((s) => s.replace(/;$/, '').trim()),
    ).toEqual(runtimeRoleGrants('customer_access_app'));
  });
});

describeWithRoles(
  'MIGRATION_DATABASE_URL migrates, DATABASE_URL runs with DML only (needs a second role: skipped on the embedded engine, which has one user)',
  () => {
    const role = () => process.env[TEST_ENV.runtimeRole]!;
    let database: TestDatabase;
    let t: TestApp;

    // An empty database, as on the first deployment: the app migrates it at start as the owner
    // and serves as the runtime role, which owns nothing.
    beforeAll(async () => {
      database = await createTestDatabase({ empty: true });
      t = await startTestApp({ RUN_MIGRATIONS: 'true' }, { database });
    });
    afterAll(async () => {
      await t.close();
      await database.drop();
    });

    const privileges = async (table: string) =>
      (
        await t.asOwner<{ privilege: string }>(
          `SELECT p AS privilege FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE',
                  'REFERENCES','TRIGGER']) p
            WHERE has_table_privilege($1, $2, p) ORDER BY p`,
          [role(), table],
        )
      ).map((row) => row.privilege);

    it('leaves every table owned by the migrating role, none by the runtime role', async () => {
      const owners = await t.asOwner<{ owner: string }>(
        `SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'`,
      );
      expect(owners).toEqual([{ owner: new URL(database.url).username }]);
      const [me] = await t.db.query<{ role: string }[]>('SELECT current_user AS role');
      expect(me.role).toBe(role());
    });

    it('grants DML on the tables, only SELECT and INSERT on audit_logs, nothing on migrations', async () => {
      expect(await privileges('customers')).toEqual(['DELETE', 'INSERT', 'SELECT', 'UPDATE']);
      expect(await privileges('billing_pauses')).toEqual(['DELETE', 'INSERT', 'SELECT', 'UPDATE']);
      expect(await privileges('audit_logs')).toEqual(['INSERT', 'SELECT']);
      expect(await privileges('migrations')).toEqual([]);
    });

    it('serves a working day as that role: bootstrap admin, customers, disable, keys, limits, notes, billing', async () => {
      const login = await request(t.http)
        .post('/api/v1/auth/login')
        .send({ email: TEST_ADMIN.email, password: TEST_ADMIN.password })
        .expect(200);
      const admin = { Authorization: `Bearer ${login.body.access_token}` };
      const customer = await request(t.http)
        .post('/api/v1/customers')
        .set(admin)
        .send({ email: 'least-privilege@example.com', name: 'Least Privilege Ltd' })
        .expect(201);
      const id = customer.body.id as string;
      const key = await request(t.http)
        .post('/api/v1/api-keys')
        .set(admin)
        .send({ name: 'Platform' })
        .expect(201);
      const limits = () =>
        request(t.http).get(`/api/v1/customers/${id}/limits`).set('X-API-Key', key.body.key);

      expect((await limits().expect(200)).body.status).toBe('enabled');
      await request(t.http)
        .post(`/api/v1/customers/${id}/disable`)
        .set(admin)
        .send({ reason: 'Runs as a role that owns nothing' })
        .expect(200);
      expect((await limits().expect(200)).body.status).toBe('disabled');
      await request(t.http)
        .post(`/api/v1/customers/${id}/notes`)
        .set(admin)
        .send({ body: 'Called them.' })
        .expect(201);
      await request(t.http).post(`/api/v1/customers/${id}/enable`).set(admin).send({}).expect(200);
      await request(t.http).post('/api/v1/billing/runs').set(admin).send({}).expect(201);
      await request(t.http).delete(`/api/v1/api-keys/${key.body.id}`).set(admin).expect(204);
      await limits().expect(401);

      const audit = await request(t.http)
        .get(`/api/v1/audit-logs?customer_id=${id}`)
        .set(admin)
        .expect(200);
      expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual([
        'customer.enabled',
        'hold.lifted',
        'customer.disabled',
        'hold.placed',
      ]);
      await expect(t.db.query('DELETE FROM audit_logs')).rejects.toThrow(
        'permission denied for table audit_logs',
      );
    });

    it('tells a role that could switch the audit triggers off from one that cannot (main warns of it)', async () => {
      await expect(auditLogTamperingRights((sql) => t.db.query(sql))).resolves.toBeUndefined();
      // The owner here is the server's superuser; a plain owner is named by the other reason.
      await expect(auditLogTamperingRights((sql) => t.asOwner(sql))).resolves.toBe(
        'is a superuser',
      );
    });

    it('gives a table that a later migration creates DML to the runtime role too', async () => {
      await t.asOwner('CREATE TABLE later_things (id int PRIMARY KEY, name text)');
      await t.db.query(`INSERT INTO later_things VALUES (1, 'one')`);
      await t.db.query(`UPDATE later_things SET name = 'uno'`);
      await t.db.query('DELETE FROM later_things');
      await expect(t.db.query('DROP TABLE later_things')).rejects.toThrow('must be owner');
    });

    it('takes back wider grants when it runs again (every start that migrates does)', async () => {
      await t.asOwner(`GRANT ALL ON audit_logs, migrations TO "${role()}"`);
      expect(await privileges('audit_logs')).toContain('TRUNCATE');
      await grantRuntimeRole(database.url, database.runtimeUrl);
      expect(await privileges('audit_logs')).toEqual(['INSERT', 'SELECT']);
      expect(await privileges('migrations')).toEqual([]);
    });

    it('grants nothing when DATABASE_URL is the migrating role itself', async () => {
      await expect(grantRuntimeRole(database.url, database.url)).resolves.toEqual({
        granted: false,
        role: new URL(database.url).username,
        reason: 'it is the role that migrates',
      });
      // The owner keeps its rights (a REVOKE would have taken its own).
      const [owner] = await queryAs<{ update: boolean }>(
        database.url,
        `SELECT has_table_privilege('audit_logs', 'UPDATE') AS update`,
      );
      expect(owner.update).toBe(true);
    });

    it('refuses to migrate as a role that owns nothing (why MIGRATION_DATABASE_URL exists)', async () => {
      const empty = await createTestDatabase({ empty: true });
      try {
        await expect(
          startTestApp(
            { RUN_MIGRATIONS: 'true' },
            { database: { ...empty, url: withUser(empty.url, role()) } },
          ),
        ).rejects.toThrow('permission denied for schema public');
      } finally {
        await empty.drop();
      }
    });
  },
);
