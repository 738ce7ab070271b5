import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Something a plan can grant, such as `api_calls` or `sso`. */
@Entity({ name: 'features' })
@Unique('uq_features_code', ['code'])
export class Feature {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_features' })
  id: string;

  @Column({ type: 'text' })
  code: string;

  @Column({ type: 'text' })
  name: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
