import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { StaffUser } from '../../auth/entities/staff-user.entity';
import { Customer } from '../../customers/entities/customer.entity';

/** An API key: a platform key (no customer) or one bound to a customer. Only its hash is kept. */
@Entity({ name: 'api_keys' })
@Unique('uq_api_keys_key_hash', ['keyHash'])
@Index('ix_api_keys_created_at_id', ['createdAt', 'id'])
@Index('ix_api_keys_customer_id', ['customerId'])
export class ApiKey {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_api_keys' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** SHA-256 of the key, hex. */
  @Column({ name: 'key_hash', type: 'text' })
  keyHash: string;

  /** The key's first characters, to recognise it in a list. */
  @Column({ type: 'text' })
  prefix: string;

  @Column({ name: 'customer_id', type: 'uuid', nullable: true })
  customerId: string | null;

  @ManyToOne(() => Customer, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_api_keys_customer' })
  customer?: Customer;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @ManyToOne(() => StaffUser, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by', foreignKeyConstraintName: 'fk_api_keys_created_by' })
  creator?: StaffUser;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  revokedAt: Date | null;
}
