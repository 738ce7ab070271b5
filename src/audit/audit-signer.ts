import { Injectable, Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import {
  checkpointMessage,
  generateSigningKey,
  parseSigningKey,
  PublicKeyFacts,
  publicKeyFacts,
  signMessage,
} from '../common/signing-key';

/**
 * Holds the key of AUDIT_SIGNING_KEY and signs checkpoints with it. Outside production, without
 * one, it makes a key for this process and says so: its checkpoints can be checked only while the
 * process lives (the configuration refuses a production start without a key).
 */
@Injectable()
export class AuditSigner {
  private readonly logger = new Logger('AuditSigner');
  private readonly key: KeyObject;
  readonly publicKey: PublicKeyFacts;
  readonly ephemeral: boolean;

  constructor(@InjectConfig() config: AppConfig) {
    this.ephemeral = config.auditSigningKey === undefined;
    this.key = this.ephemeral ? generateSigningKey() : parseSigningKey(config.auditSigningKey!);
    this.publicKey = publicKeyFacts(this.key);
    if (this.ephemeral) {
      this.logger.warn(
        'AUDIT_SIGNING_KEY is not set: the audit checkpoints are signed by a key made for this ' +
          `process (key id ${this.publicKey.keyId.slice(0, 16)}…), which ends with it. Set one ` +
          'to keep them verifiable.',
      );
    }
  }

  /** The base64 signature of `seq.hash.signed_at`. */
  sign(seq: string | number, hash: string, signedAt: Date): string {
    return signMessage(this.key, checkpointMessage(seq, hash, signedAt.toISOString()));
  }
}
