import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError } from '../common/errors';
import { keysetPage, Page, PageQueryDto } from '../common/pagination';
import { isUniqueViolation } from '../database/postgres-errors';
import { CreateUserDto, UpdateUserDto } from './dto/user-input.dto';
import { StaffUserDto } from './dto/staff-user.dto';
import { StaffUser } from './entities/staff-user.entity';
import { PasswordHasher } from './password-hasher';
import { assertStrongPassword } from './password-policy';
import { UnitOfWork } from '../database/unit-of-work';
import { CustomerChanges } from '../changes/customer-changes';

@Injectable()
export class UsersService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly hasher: PasswordHasher,
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
      [
        {
          expression: 'u.created_at',
          cast: 'timestamptz',
          value: (u) => u.createdAt.toISOString(),
        },
        { expression: 'u.id', cast: 'uuid', value: (u) => u.id },
      ],
      'ASC',
      page,
      StaffUserDto.from,
    );
  }

  async create(input: CreateUserDto): Promise<StaffUserDto> {
    assertStrongPassword(input.password, input, 'password');
    const passwordHash = await this.hasher.hash(input.password);
    try {
      const user = await this.users.save(
        this.users.create({ email: input.email, name: input.name, role: input.role, passwordHash }),
      );
      return StaffUserDto.from(user);
    } catch (error) {
      if (isUniqueViolation(error, 'uq_staff_users_email')) {
        throw new ConflictError('user_exists', `A user with email ${input.email} already exists.`);
      }
      throw error;
    }
  }

  async update(id: string, input: UpdateUserDto): Promise<StaffUserDto> {
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
    return this.unitOfWork.run(() => this.applyUpdate(id, input, passwordHash));
  }

  /** Sets a password already checked by the caller and revokes every earlier token. */
  async setPassword(id: string, password: string): Promise<StaffUser> {
    const passwordHash = await this.hasher.hash(password);
    return this.unitOfWork.run(async () => {
      const user = await this.users.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw new NotFoundError('User', id);
      user.passwordHash = passwordHash;
      user.tokenVersion += 1;
      const saved = await this.users.save(user);
      await this.changes.staffUserChanged(id);
      return saved;
    });
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
  ): Promise<StaffUserDto> {
    const user = await this.users.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!user) throw new NotFoundError('User', id);

    const losesAdmin =
      user.role === 'admin' &&
      user.active &&
      ((input.role !== undefined && input.role !== 'admin') || input.active === false);
    if (losesAdmin) await this.assertAnotherActiveAdmin(id);

    if (input.name !== undefined) user.name = input.name;
    if (input.role !== undefined) user.role = input.role;
    if (input.active !== undefined) user.active = input.active;
    if (passwordHash !== undefined) user.passwordHash = passwordHash;
    // Reactivating a user must not bring back the tokens it had before.
    if (passwordHash !== undefined || input.active === false) user.tokenVersion += 1;
    const saved = await this.users.save(user);
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
      throw new ConflictError(
        'last_admin',
        'The last active admin cannot be demoted or deactivated.',
      );
    }
  }
}
