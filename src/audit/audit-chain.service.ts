import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ConflictError, ValidationFailedError } from '../common/errors';
import { AuditChainBrokenError } from './audit.errors';
import { KeysetColumn, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { UnitOfWork } from '../database/unit-of-work';
import type { Query } from './audit-chain-rows';
import { AuditChainVerifier, VerifyOutcome } from './audit-chain-verifier';
import { AuditSigner } from './audit-signer';
import {
  AuditCheckpointDto,
  AuditPublicKeyDto,
  VerifyAuditChainQueryDto,
} from './dto/audit-chain.dto';
import { AuditCheckpoint } from './entities/audit-checkpoint.entity';

/** Serialises checkpoint signing across instances (pg_advisory_xact_lock). */
const CHECKPOINT_LOCK = `hashtext('customer-access audit checkpoint')`;

const NEWEST_FIRST: KeysetColumn<AuditCheckpoint>[] = [
  { expression: 'c.signed_at', cast: 'timestamptz', value: (c) => c.signedAt.toISOString() },
  { expression: 'c.id', cast: 'uuid', value: (c) => c.id },
];

/** A scheduled run found nothing new to sign, or another instance was signing. */
export type ScheduledCheckpoint = AuditCheckpointDto | 'unchanged' | 'busy';

/**
 * The chain's verification and its signed checkpoints. A checkpoint certifies the head: before
 * signing it recomputes the entries since the previous checkpoint of this key (and that
 * checkpoint's own entry), and refuses to sign a broken chain, so that no signature ever blesses
 * a tampered one.
 */
@Injectable()
export class AuditChainService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly signer: AuditSigner,
    private readonly clock: Clock,
  ) {}

  private readonly query: Query = (sql, parameters) => this.txHost.tx.query(sql, parameters);

  verify(range: VerifyAuditChainQueryDto): Promise<VerifyOutcome> {
    if (
      range.from_seq !== undefined &&
      range.to_seq !== undefined &&
      range.from_seq > range.to_seq
    ) {
      throw new ValidationFailedError([
        { field: 'to_seq', message: 'must not be less than from_seq' },
      ]);
    }
    return this.verifier().verify({ fromSeq: range.from_seq, toSeq: range.to_seq });
  }

  publicKey(): AuditPublicKeyDto {
    return {
      algorithm: 'Ed25519',
      key_id: this.signer.publicKey.keyId,
      public_key: this.signer.publicKey.raw,
      public_key_pem: this.signer.publicKey.pem,
      ephemeral: this.signer.ephemeral,
    };
  }

  /** On demand: signs the head now (waiting for a signing in progress elsewhere). */
  createCheckpoint(): Promise<AuditCheckpointDto> {
    return this.unitOfWork.run(async () => {
      await this.txHost.tx.query(`SELECT pg_advisory_xact_lock(${CHECKPOINT_LOCK})`);
      const head = await this.head();
      if (head.seq === '0') {
        throw new ConflictError('conflict', 'The audit log is empty: there is no head to sign.');
      }
      return this.sign(head);
    });
  }

  /**
   * The schedule's run: one instance at a time (the others skip), and only when the head moved
   * since the last checkpoint of this key.
   */
  createScheduledCheckpoint(): Promise<ScheduledCheckpoint> {
    return this.unitOfWork.run(async () => {
      const [{ locked }] = await this.txHost.tx.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(${CHECKPOINT_LOCK}) AS locked`,
      );
      if (!locked) return 'busy';
      const head = await this.head();
      const last = await this.lastTrusted();
      if (head.seq === '0' || (last && last.seq === head.seq)) return 'unchanged';
      return this.sign(head);
    });
  }

  listCheckpoints(page: PageQueryDto): Promise<Page<AuditCheckpointDto>> {
    return keysetPage(
      this.txHost.tx.getRepository(AuditCheckpoint).createQueryBuilder('c'),
      NEWEST_FIRST,
      'DESC',
      page,
      AuditCheckpointDto.from,
    );
  }

  private verifier(): AuditChainVerifier {
    return new AuditChainVerifier(this.query, this.signer.publicKey.raw);
  }

  private async head(): Promise<{ seq: string; hash: string }> {
    const [head] = await this.txHost.tx.query<{ seq: string; hash: string }[]>(
      'SELECT seq, hash FROM audit_chain_head WHERE id',
    );
    return head;
  }

  private async lastTrusted(): Promise<AuditCheckpoint | null> {
    return this.txHost.tx.getRepository(AuditCheckpoint).findOne({
      where: { publicKey: this.signer.publicKey.raw },
      order: { seq: 'DESC', signedAt: 'DESC' },
    });
  }

  private async sign(head: { seq: string; hash: string }): Promise<AuditCheckpointDto> {
    const last = await this.lastTrusted();
    const outcome = await this.verifier().verify({
      fromSeq: last ? Number(last.seq) : undefined,
      toSeq: Number(head.seq),
    });
    if (!outcome.ok) {
      throw new AuditChainBrokenError(
        `The audit chain is broken at seq ${outcome.first_broken_seq} (${outcome.reason}): ` +
          `nothing was signed. ${outcome.detail}`,
      );
    }
    const signedAt = this.clock.now();
    const checkpoints = this.txHost.tx.getRepository(AuditCheckpoint);
    const saved = await checkpoints.save(
      checkpoints.create({
        kind: 'checkpoint',
        seq: head.seq,
        hash: head.hash,
        signedAt,
        signature: this.signer.sign(head.seq, head.hash, signedAt),
        keyId: this.signer.publicKey.keyId,
        publicKey: this.signer.publicKey.raw,
      }),
    );
    return AuditCheckpointDto.from(saved);
  }
}
