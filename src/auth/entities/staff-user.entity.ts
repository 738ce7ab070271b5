import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import { ROLES, type Role } from '../../access/roles';
import { sqlList } from '../../common/sql';

@Entity({ name: 'staff_users' })
@Unique('uq_staff_users_email', ['email'])
@Check('ck_staff_users_role', `role IN (${sqlList(ROLES)})`)
export class StaffUser {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored lower-cased, so that uniqueness is case-insensitive. */
  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  role: Role;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** Access tokens carry the version they were issued under; bumping it revokes them all. */
  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
