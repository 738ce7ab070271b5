import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_NAME } from '../config/app-config';
import type { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { StaffUser } from './entities/staff-user.entity';
import { PasswordHasher } from './password-hasher';
import { generatePassword } from '../common/password-policy';
import { UnitOfWork } from '../database/unit-of-work';
import { systemOrigin } from '../access/actor';
import { UsersService } from './users.service';
import { printAdminPasswordBanner } from '../observability/logging';

/**
 * When no staff user exists, creates the first admin from ADMIN_EMAIL / ADMIN_PASSWORD. Without
 * a configured password one is generated and printed once: there is no default credential. In
 * production nothing is generated (logs are kept and shipped): the start is refused instead.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly hasher: PasswordHasher,
    private readonly usersService: UsersService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.unitOfWork.run(() => this.ensureFirstAdmin());
  }

  private async ensureFirstAdmin(): Promise<void> {
    const users = this.txHost.tx.getRepository(StaffUser);
    // Two instances starting together must not both create an admin.
    await this.txHost.tx.query('LOCK TABLE staff_users IN SHARE ROW EXCLUSIVE MODE');
    if ((await users.count()) > 0) return;

    const email = this.config.adminEmail ?? DEFAULT_ADMIN_EMAIL;
    const generated = this.config.adminPassword === undefined;
    if (generated && this.config.production) {
      throw new ConfigError([
        'No staff user exists yet and ADMIN_PASSWORD is not set: with NODE_ENV=production no ' +
          'password is generated into the logs. Set ADMIN_EMAIL and ADMIN_PASSWORD for the first ' +
          'start (a lost password is reset later with `npm run admin:reset-password -- <email>`).',
      ]);
    }
    // A configured password has passed the strength check when the configuration was loaded.
    const password =
      this.config.adminPassword ?? generatePassword({ email, name: DEFAULT_ADMIN_NAME });
    const admin = await users.save(
      users.create({
        email,
        name: DEFAULT_ADMIN_NAME,
        role: 'admin',
        passwordHash: await this.hasher.hash(password),
      }),
    );
    await this.usersService.recordCreated(admin, systemOrigin());
    if (generated) {
      // Printed once, on purpose: the operator's only way in on a new installation. Framed on
      // standard error, apart from the log lines, so that no log shipper keeps it.
      this.logger.warn(
        `Created the first admin ${email}; its generated password is printed on standard error, once`,
      );
      printAdminPasswordBanner(email, password);
    } else {
      this.logger.log(`Created the first admin ${email} from ADMIN_EMAIL / ADMIN_PASSWORD`);
    }
  }
}
