import { Client } from 'pg';

/** Tables the service may read and append to, never change: not even its own code may. */
export const APPEND_ONLY_TABLES: readonly string[] = ['audit_logs', 'audit_checkpoints'];

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * What the role of DATABASE_URL needs when it is not the schema's owner: DML on the service's
 * tables, only SELECT and INSERT on the append-only ones, nothing on the migration history, and
 * the same for tables that later migrations create (ALTER DEFAULT PRIVILEGES applies to objects
 * the role running it creates: run these as the owner that runs the migrations). A role without
 * ownership cannot ALTER, DROP, TRUNCATE, disable triggers or set session_replication_role.
 * Idempotent: it also takes back what an earlier, wider grant gave.
 */
export function runtimeRoleGrants(role: string): string[] {
  const r = quote(role);
  return [
    `GRANT USAGE ON SCHEMA public TO ${r}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`,
    ...APPEND_ONLY_TABLES.map((table) => `REVOKE UPDATE, DELETE ON ${quote(table)} FROM ${r}`),
    `REVOKE ALL ON "migrations" FROM ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${r}`,
  ];
}

interface RoleFacts {
  name: string;
  superuser: boolean;
}

async function whoIs(url: string): Promise<RoleFacts> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<RoleFacts>(
      'SELECT current_user AS name, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

export type GrantOutcome =
  { granted: true; role: string } | { granted: false; role: string; reason: string };

/**
 * Gives the role of `runtimeUrl` exactly runtimeRoleGrants(), as the owner of `ownerUrl`, after
 * the migrations: so tables a new migration adds are granted too, and the first start needs
 * nothing but a role that may log in. Skipped when both URLs are the same role or the runtime
 * role is a superuser (no grant restrains one).
 */
export async function grantRuntimeRole(
  ownerUrl: string,
  runtimeUrl: string,
): Promise<GrantOutcome> {
  const [owner, runtime] = await Promise.all([whoIs(ownerUrl), whoIs(runtimeUrl)]);
  if (runtime.name === owner.name) {
    return { granted: false, role: runtime.name, reason: 'it is the role that migrates' };
  }
  if (runtime.superuser) {
    return { granted: false, role: runtime.name, reason: 'it is a superuser' };
  }
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    // Instances starting together would otherwise race on the same catalog rows
    // ("tuple concurrently updated").
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('customer-access runtime grants'))`);
    for (const statement of runtimeRoleGrants(runtime.name)) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  return { granted: true, role: runtime.name };
}

/**
 * Why the connection's role could switch the audit log's triggers off (it is a superuser or owns
 * the table), or undefined when it cannot: a DML-only role.
 */
export async function auditLogTamperingRights(
  query: (sql: string) => Promise<{ superuser: boolean; owner: boolean }[]>,
): Promise<string | undefined> {
  const [rights] = await query(
    `SELECT r.rolsuper AS superuser, pg_has_role(current_user, c.relowner, 'MEMBER') AS owner
       FROM pg_roles r, pg_class c
      WHERE r.rolname = current_user AND c.oid = 'audit_logs'::regclass`,
  );
  if (rights.superuser) return 'is a superuser';
  if (rights.owner) return 'owns audit_logs';
  return undefined;
}
