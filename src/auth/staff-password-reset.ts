import type { DataSource } from 'typeorm';
import { appendAuditEntry } from '../audit/audit-writer';
import { systemOrigin } from '../access/actor';
import { CUSTOMER_CHANGES_CHANNEL, recordPayload } from '../changes/customer-changes';
import { StaffUser } from './entities/staff-user.entity';
import { PasswordHasher } from './password-hasher';
import { generatePassword } from '../common/password-policy';

export interface PasswordReset {
  email: string;
  password: string;
  active: boolean;
}

/**
 * The way back for a lost password (the last admin's included): sets a new generated password
 * and revokes every token of the user, recorded as `staff_user.password_changed` by `system` in
 * the same transaction. Works on the database directly, so it needs no token.
 */
export async function resetStaffPassword(
  dataSource: DataSource,
  email: string,
): Promise<PasswordReset> {
  const normalised = email.trim().toLowerCase();
  const users = dataSource.getRepository(StaffUser);
  const user = await users.findOneBy({ email: normalised });
  if (!user) throw new Error(`No staff user has the email ${normalised}.`);
  const password = generatePassword(user);
  const passwordHash = await new PasswordHasher().hash(password);
  await dataSource.transaction(async (manager) => {
    await manager
      .getRepository(StaffUser)
      .createQueryBuilder()
      .update()
      .set({ passwordHash, tokenVersion: () => 'token_version + 1' })
      .where('id = :id', { id: user.id })
      .execute();
    await appendAuditEntry(
      manager,
      {
        action: 'staff_user.password_changed',
        target: { type: 'staff_user', id: user.id },
        reason: 'npm run admin:reset-password',
        before: {},
        after: { tokens_revoked: true },
      },
      systemOrigin(),
    );
    // Running instances keep their staff members in memory: they drop this one on commit.
    await manager.query('SELECT pg_notify($1, $2)', [
      CUSTOMER_CHANGES_CHANNEL,
      recordPayload('staff_user', user.id),
    ]);
  });
  return { email: user.email, password, active: user.active };
}
