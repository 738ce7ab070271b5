import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChangeAwareCache } from '../changes/change-aware-cache';
import { CustomerChangeFeed } from '../changes/customer-change-feed';
import { pgPoolOf, statementName } from '../database/pg-pool';
import type { Role } from '../access/roles';

const MAX_CACHED_MEMBERS = 10_000;

/** What a request needs of its staff member. */
export interface StaffMember {
  id: string;
  name: string;
  email: string;
  role: Role;
  /** Tokens of another version are revoked (logout, password change, deactivation). */
  tokenVersion: number;
}

const BY_ID = 'staff_member_by_id';
const SQL = `SELECT id, name, email, role, token_version FROM staff_users WHERE id = $1 AND active`;

/**
 * The active staff members, for the authentication of every staff request: read once (one
 * prepared query through `pg`, not the ORM) and kept until a change to the member is announced
 * by any instance (UsersService announces every change of role, name, activity, password and
 * token version, in its transaction), or to everything. Like every cache of the change feed it
 * is bypassed while the feed cannot hear other instances, so a logout or a deactivation is
 * refused from the next request on, here at once and elsewhere within CHANGE_FEED_STALE_MS. Not
 * on the embedded engine, where no other instance is heard.
 * Unknown and inactive members are not kept (a member created later must be found).
 */
@Injectable()
export class StaffMembers {
  private readonly cache: ChangeAwareCache<StaffMember | undefined>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: CustomerChangeFeed,
  ) {
    this.cache = feed.recordCache<StaffMember | undefined>('staff_user', {
      maxEntries: MAX_CACHED_MEMBERS,
      idOf: (member) => member?.id,
    });
  }

  /** The active member with this id; undefined when there is none. Synchronous when kept. */
  activeMember(id: string): StaffMember | undefined | Promise<StaffMember | undefined> {
    // The embedded engine hears no other instance: should two share it, a logout through one
    // would go unheard by the other. Staff requests are few: they read, as before this cache.
    if (!this.feed.listening) return this.read(id);
    return this.cache.get(id, () => this.read(id));
  }

  private async read(id: string): Promise<StaffMember | undefined> {
    const { rows } = await pgPoolOf(this.dataSource).query<[string, string, string, Role, number]>({
      name: statementName(this.dataSource, BY_ID),
      text: SQL,
      values: [id],
      rowMode: 'array',
    });
    if (rows.length === 0) return undefined;
    const [, name, email, role, tokenVersion] = rows[0];
    return Object.freeze({ id, name, email, role, tokenVersion });
  }
}
