import { DomainError } from '../common/errors';

/**
 * The error codes of access: the refusal of a disabled customer, said by the guard (its API key)
 * and by the use cases a disabled customer may not run (changing its subscriptions).
 */
export const ACCESS_ERROR_CODES = ['customer_disabled'] as const;
export type AccessErrorCode = (typeof ACCESS_ERROR_CODES)[number];

export class CustomerDisabledError extends DomainError<AccessErrorCode> {
  constructor(customerId: string, detail?: string) {
    super(
      'customer_disabled',
      403,
      'Customer disabled',
      detail ?? `Customer ${customerId} is disabled.`,
    );
  }
}
