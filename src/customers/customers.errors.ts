import { ConflictError } from '../common/errors';

/** The error codes of the customer records. */
export const CUSTOMERS_ERROR_CODES = ['customer_exists'] as const;
export type CustomersErrorCode = (typeof CUSTOMERS_ERROR_CODES)[number];

export class CustomerExistsError extends ConflictError<CustomersErrorCode> {
  constructor(email: string) {
    super('customer_exists', `A customer with email ${email} already exists.`);
  }
}
