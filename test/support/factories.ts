import { randomBytes } from 'node:crypto';
import { StaffUser } from '../../src/auth/entities/staff-user.entity';
import { PasswordHasher } from '../../src/auth/password-hasher';
import type { Role } from '../../src/access/roles';
import { ROLES } from '../../src/access/roles';
import type { DataSource, EntityManager } from 'typeorm';
import { Customer } from '../../src/customers/entities/customer.entity';
import { Hold } from '../../src/customers/entities/hold.entity';
import type { TestApp } from './test-app';

export const STAFF_PASSWORD = 'staff-password-for-tests';
let staffHash: Promise<string> | undefined;

export const uniqueEmail = (prefix = 'someone'): string =>
  `${prefix}-${randomBytes(5).toString('hex')}@example.com`;

/** A staff user with the role, straight into the database; its password is STAFF_PASSWORD. */
export async function createStaff(
  t: TestApp,
  role: Role,
  overrides: Partial<StaffUser> = {},
): Promise<StaffUser> {
  staffHash ??= new PasswordHasher().hash(STAFF_PASSWORD);
  const users = t.db.getRepository(StaffUser);
  return users.save(
    users.create({
      email: uniqueEmail(role),
      name: `Test ${role}`,
      role,
      passwordHash: await staffHash,
      active: true,
      ...overrides,
    }),
  );
}

export interface StaffSession {
  user: StaffUser;
  token: string;
  header: { Authorization: string };
}

export async function signIn(t: TestApp, role: Role): Promise<StaffSession> {
  const user = await createStaff(t, role);
  const token = t.sign(user.id);
  return { user, token, header: { Authorization: `Bearer ${token}` } };
}

/** One signed-in staff member per role. */
export async function signInEveryRole(t: TestApp): Promise<Record<Role, StaffSession>> {
  const sessions = await Promise.all(ROLES.map((role) => signIn(t, role)));
  return Object.fromEntries(ROLES.map((role, i) => [role, sessions[i]])) as Record<
    Role,
    StaffSession
  >;
}

/**
 * Where a factory writes: a test app's database, or a transaction's manager (`t.db.transaction`)
 * for rows that must appear together, as the service's own writes do.
 */
export interface Writes {
  db: DataSource | EntityManager;
}

export async function createCustomer(
  t: Writes,
  overrides: Partial<Customer> = {},
): Promise<Customer> {
  const customers = t.db.getRepository(Customer);
  const customer = await customers.save(
    customers.create({ email: uniqueEmail('customer'), name: 'Acme Ltd', ...overrides }),
  );
  // Disabled means "has an active hold": give it the one the data migration gives such a customer.
  if (customer.status === 'disabled') {
    await insertHold(t.db, customer.id, {
      startsAt: customer.disabledAt ?? new Date(),
      reason: customer.disabledReason,
      pauseBilling: customer.billingPaused,
    });
  }
  return customer;
}

/**
 * A hold straight into the database, behind the service's back (no projection, no announcement):
 * an active manual one from now unless overridden.
 */
export async function insertHold(
  db: DataSource | EntityManager,
  customerId: string,
  overrides: Partial<Hold> = {},
): Promise<Hold> {
  const holds = db.getRepository(Hold);
  const now = new Date();
  return holds.save(
    holds.create({
      customerId,
      source: 'manual',
      reasonCode: 'other',
      reason: null,
      startsAt: now,
      endsAt: null,
      pauseBilling: false,
      placedByType: 'system',
      placedById: null,
      placedByName: 'system',
      placedAt: now,
      ...overrides,
    }),
  );
}

/** Row counts of the named tables, to assert that a refused request changed nothing. */
export async function countRows(t: TestApp, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [{ count }] = await t.db.query<{ count: string }[]>(
      `SELECT count(*)::text AS count FROM "${table}"`,
    );
    counts[table] = Number(count);
  }
  return counts;
}
