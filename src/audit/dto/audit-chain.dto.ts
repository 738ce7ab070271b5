import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsTimestamp } from '../../common/validation';
import type { AuditCheckpoint, AuditCheckpointKind } from '../entities/audit-checkpoint.entity';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export class VerifyAuditChainQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'First seq to recompute (default: the oldest entry kept)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  from_seq?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'Last seq to recompute (default: the head)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  to_seq?: number;
}

export class ChainPointDto {
  @ApiProperty({ example: 1042 })
  seq: number;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$' })
  hash: string;
}

export class SignedPointDto extends ChainPointDto {
  @ApiProperty({ format: 'date-time' })
  signed_at: string;
}

/**
 * `ok: true` with `checked`, `head` and `checkpoint`; or `ok: false` with `first_broken_seq`,
 * `checked`, `reason` and `detail`.
 */
export class AuditVerificationDto {
  @ApiProperty({ description: 'Whether every entry of the range recomputes and links' })
  ok: boolean;

  @ApiProperty({ description: 'Entries recomputed (before the break, if any)' })
  checked: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'ok: the first seq recomputed (null when the range held none)',
  })
  from_seq?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'ok: the last seq recomputed' })
  to_seq?: number | null;

  @ApiPropertyOptional({ type: ChainPointDto, description: 'ok: the chain’s head' })
  head?: ChainPointDto;

  @ApiPropertyOptional({
    type: SignedPointDto,
    nullable: true,
    description:
      'ok: the latest checkpoint signed by the current key within the range, which the chain ' +
      'matched; null when there is none',
  })
  checkpoint?: SignedPointDto | null;

  @ApiPropertyOptional({ description: 'not ok: the first seq found broken' })
  first_broken_seq?: number;

  @ApiPropertyOptional({
    enum: [
      'hash_mismatch',
      'link_broken',
      'missing_entry',
      'checkpoint_mismatch',
      'checkpoint_signature_invalid',
      'anchor_missing',
      'head_mismatch',
    ],
    description:
      'not ok: `hash_mismatch` an entry was edited; `link_broken` one was replaced; ' +
      '`missing_entry` one was deleted; `checkpoint_mismatch` the chain was rewritten and ' +
      'rehashed (a signed checkpoint disagrees); `checkpoint_signature_invalid` a checkpoint was ' +
      'forged; `anchor_missing` older entries are gone without a signed archive anchor; ' +
      '`head_mismatch` the head disagrees with the last entry',
  })
  reason?: string;

  @ApiPropertyOptional({ description: 'not ok: what was found, in words' })
  detail?: string;
}

export class AuditCheckpointDto {
  @ApiProperty({ example: 1042, description: 'The entry signed (the head when it was signed)' })
  seq: number;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$' })
  hash: string;

  @ApiProperty({ format: 'date-time', description: 'ISO 8601 with milliseconds, as signed' })
  signed_at: string;

  @ApiProperty({
    description: 'Base64 Ed25519 signature of the UTF-8 text `<seq>.<hash>.<signed_at>`',
  })
  signature: string;

  @ApiProperty({
    enum: ['checkpoint', 'archive'],
    description: '`archive`: the last entry removed by an archive run, signed before removal',
  })
  kind: AuditCheckpointKind;

  @ApiProperty({ description: 'Lower-case hex SHA-256 of the raw public key that signed it' })
  key_id: string;

  @ApiProperty({ description: 'The raw 32-byte Ed25519 public key that signed it, base64' })
  public_key: string;

  static from(this: void, row: AuditCheckpoint): AuditCheckpointDto {
    return {
      seq: Number(row.seq),
      hash: row.hash,
      signed_at: row.signedAt.toISOString(),
      signature: row.signature,
      kind: row.kind,
      key_id: row.keyId,
      public_key: row.publicKey,
    };
  }
}

export class AuditPublicKeyDto {
  @ApiProperty({ enum: ['Ed25519'] })
  algorithm: 'Ed25519';

  @ApiProperty({ description: 'Lower-case hex SHA-256 of the raw public key' })
  key_id: string;

  @ApiProperty({ description: 'The raw 32-byte public key, base64' })
  public_key: string;

  @ApiProperty({ description: 'The same key as an SPKI PEM (openssl, Node’s crypto.verify)' })
  public_key_pem: string;

  @ApiProperty({
    description:
      'true: AUDIT_SIGNING_KEY is not set and this key was made for this process only ' +
      '(never in production); its checkpoints cannot be checked once the process ends',
  })
  ephemeral: boolean;
}

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportAuditLogsQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time' })
  @IsOptional()
  @IsTimestamp()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time' })
  @IsOptional()
  @IsTimestamp()
  to?: string;

  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'ndjson' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}
