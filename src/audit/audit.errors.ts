import { ConflictError } from '../common/errors';

/** The error codes of the audit log. */
export const AUDIT_ERROR_CODES = ['audit_chain_broken'] as const;
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

/** Signing a checkpoint over a chain that does not verify: nothing is signed. */
export class AuditChainBrokenError extends ConflictError<AuditErrorCode> {
  constructor(detail: string) {
    super('audit_chain_broken', detail);
  }
}
