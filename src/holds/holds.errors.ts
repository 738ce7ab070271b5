import { ConflictError } from '../common/errors';

/** The error codes of the hold workflow. */
export const HOLDS_ERROR_CODES = ['hold_not_active'] as const;
export type HoldsErrorCode = (typeof HOLDS_ERROR_CODES)[number];

/** Lifting or reviewing a hold that is lifted or expired already. */
export class HoldNotActiveError extends ConflictError<HoldsErrorCode> {
  constructor(holdId: string, state: string) {
    super('hold_not_active', `Hold ${holdId} is already ${state}.`);
  }
}
