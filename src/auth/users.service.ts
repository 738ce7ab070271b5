import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditOrigin, AuditWriter } from '../audit/audit-writer';
import type { StatusSnapshot } from '../audit/entities/audit-log.entity';
import { NotFoundError } from '../common/errors';
import { LastAdminError, UserExistsError } from './auth.errors';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { asConflict } from '../common/postgres-errors';
import { CreateUserDto, UpdateUserDto } from './dto/user-input.dto';
import { StaffUserDto } from './dto/staff-user.dto';
import { StaffUser } from './entities/staff-user.entity';
import { PasswordHasher } from './password-hasher';
import { assertStrongPassword } from '../common/password-policy';
import { UnitOfWork } from '../database/unit-of-work';
import { CustomerChanges } from '../changes/customer-changes';

@Injectable()
export class UsersService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditWriter,
    private readonly changes: CustomerChanges,
  ) {}

  private get users() {
    return this.txHost.tx.getRepository(StaffUser);
  }

  findActiveById(id: string): Promise<StaffUser | null> {
    return this.users.findOneBy({ id, active: true });
  }

  findByEmail(email: string): Promise<StaffUser | null> {
    return this.users.findOneBy({ email: email.trim().toLowerCase() });
  }

  async get(id: string): Promise<StaffUserDto> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFoundError('User', id);
    return StaffUserDto.from(user);
  }

  list(page: PageQueryDto): Promise<Page<StaffUserDto>> {
    return keysetPage(
      this.users.createQueryBuilder('u'),
      creationOrder<StaffUser>('u'),
      'ASC',
      page,
      StaffUserDto.from,
    );
  }

  async create(input: CreateUserDto, origin: AuditOrigin): Promise<StaffUserDto> {
    assertStrongPassword(input.password, input, 'password');
    const passwordHash = await this.hasher.hash(input.password);
    try {
      return await this.unitOfWork.run(async () => {
        const user = await this.users.save(
          this.users.create({
            email: input.email,
            name: input.name,
            role: input.role,
            passwordHash,
          }),
        );
        await this.recordCreated(user, origin);
        return StaffUserDto.from(user);
      });
    } catch (error) {
      throw asConflict(error, 'uq_staff_users_email', new UserExistsError(input.email));
    }
  }

  /** `staff_user.created`, in the caller's transaction (the first admin's too). */
  recordCreated(user: StaffUser, origin: AuditOrigin): Promise<string> {
    return this.audit.append(
      {
        action: 'staff_user.created',
        target: { type: 'staff_user', id: user.id },
        before: {},
        after: { email: user.email, name: user.name, role: user.role, active: user.active },
      },
      origin,
    );
  }

  async update(id: string, input: UpdateUserDto, origin: AuditOrigin): Promise<StaffUserDto> {
    let passwordHash: string | undefined;
    if (input.password !== undefined) {
      const user = await this.users.findOneBy({ id });
      if (!user) throw new NotFoundError('User', id);
      assertStrongPassword(
        input.password,
        { email: user.email, name: input.name ?? user.name },
        'password',
      );
      // Hashing is slow: done before the transaction, so the row lock is held only briefly.
      passwordHash = await this.hasher.hash(input.password);
    }
    return this.unitOfWork.run(() => this.applyUpdate(id, input, passwordHash, origin));
  }

  /** Sets a password already checked by the caller and revokes every earlier token. */
  async setPassword(id: string, password: string, origin: AuditOrigin): Promise<StaffUser> {
    const passwordHash = await this.hasher.hash(password);
    return this.unitOfWork.run(async () => {
      const user = await this.users.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundError('User', id);
      user.passwordHash = passwordHash;
      user.tokenVersion += 1;
      const saved = await this.users.save(user);
      await this.recordPasswordChanged(saved, origin);
      await this.changes.staffUserChanged(id);
      return saved;
    });
  }

  /** `staff_user.password_changed`: never the password, only that it changed and by whom. */
  private recordPasswordChanged(user: StaffUser, origin: AuditOrigin): Promise<string> {
    return this.audit.append(
      {
        action: 'staff_user.password_changed',
        target: { type: 'staff_user', id: user.id },
        before: {},
        after: { tokens_revoked: true },
      },
      origin,
    );
  }

  /** Refuses every token issued to the user so far, on every instance (the guard compares). */
  revokeTokens(id: string): Promise<void> {
    return this.unitOfWork.run(async () => {
      await this.users.increment({ id }, 'tokenVersion', 1);
      await this.changes.staffUserChanged(id);
    });
  }

  private async applyUpdate(
    id: string,
    input: UpdateUserDto,
    passwordHash: string | undefined,
    origin: AuditOrigin,
  ): Promise<StaffUserDto> {
    const user = await this.users.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!user) throw new NotFoundError('User', id);

    const losesAdmin =
      user.role === 'admin' &&
      user.active &&
      ((input.role !== undefined && input.role !== 'admin') || input.active === false);
    if (losesAdmin) await this.assertAnotherActiveAdmin(id);

    // What the entry shows: only the fields this request changed, as they were and became.
    const before: StatusSnapshot = {};
    const after: StatusSnapshot = {};
    for (const field of ['name', 'role', 'active'] as const) {
      if (input[field] !== undefined && input[field] !== user[field]) {
        before[field] = user[field];
        after[field] = input[field];
      }
    }
    if (input.name !== undefined) user.name = input.name;
    if (input.role !== undefined) user.role = input.role;
    if (input.active !== undefined) user.active = input.active;
    if (passwordHash !== undefined) user.passwordHash = passwordHash;
    // Reactivating a user must not bring back the tokens it had before.
    if (passwordHash !== undefined || input.active === false) user.tokenVersion += 1;
    const saved = await this.users.save(user);
    if (Object.keys(after).length > 0) {
      await this.audit.append(
        {
          action: 'staff_user.updated',
          target: { type: 'staff_user', id: saved.id },
          before,
          after,
        },
        origin,
      );
    }
    if (passwordHash !== undefined) await this.recordPasswordChanged(saved, origin);
    // Cached by every instance for the authentication of its requests (StaffMembers).
    await this.changes.staffUserChanged(id);
    return StaffUserDto.from(saved);
  }

  /** Nobody may remove the last active admin: the service would have no way back. */
  private async assertAnotherActiveAdmin(exceptId: string): Promise<void> {
    const admins = await this.users
      .createQueryBuilder('u')
      .select('u.id')
      .setLock('pessimistic_write')
      .where(`u.role = 'admin' AND u.active AND u.id <> :exceptId`, { exceptId })
      .getMany();
    if (admins.length === 0) {
      throw new LastAdminError();
    }
  }
}
