import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { AuditLog } from '../../audit/entities/audit-log.entity';
import { Customer } from '../../customers/entities/customer.entity';

export type NoteAuthorType = 'user' | 'api_key';

/** An internal note on a customer, by staff or, for a disable/enable reason, by its actor. */
@Entity({ name: 'customer_notes' })
@Index('ix_customer_notes_customer_id_created_at_id', ['customerId', 'createdAt', 'id'])
export class Note {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_customer_notes' })
  id: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @ManyToOne(() => Customer, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'customer_id', foreignKeyConstraintName: 'fk_customer_notes_customer' })
  customer?: Customer;

  @Column({ name: 'author_type', type: 'text' })
  authorType: NoteAuthorType;

  /** No foreign key: the note stays when its author's account or key goes away. */
  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @Column({ name: 'author_name', type: 'text' })
  authorName: string;

  @Column({ type: 'text' })
  body: string;

  /** The audit entry whose reason this note carries; null for a note written by hand. */
  @Column({ name: 'audit_log_id', type: 'uuid', nullable: true })
  auditLogId: string | null;

  @ManyToOne(() => AuditLog, { onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'audit_log_id', foreignKeyConstraintName: 'fk_customer_notes_audit_log' })
  auditLog?: AuditLog;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
