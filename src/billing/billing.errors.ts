import { ConflictError } from '../common/errors';

/** The error codes of invoices and their payments. */
export const BILLING_ERROR_CODES = [
  'invoice_paid',
  'invoice_void',
  'payment_exceeds_amount_due',
] as const;
export type BillingErrorCode = (typeof BILLING_ERROR_CODES)[number];

/** A payment or a void for an invoice that is no longer open; `number` as the customer reads it. */
export class InvoiceNotOpenError extends ConflictError<BillingErrorCode> {
  constructor(number: string, status: 'paid' | 'void') {
    super(
      status === 'void' ? 'invoice_void' : 'invoice_paid',
      status === 'void' ? `${number} is void.` : `${number} is paid already.`,
    );
  }
}

/** There is no credit balance: a payment may not be more than what remains due. */
export class PaymentExceedsAmountDueError extends ConflictError<BillingErrorCode> {
  constructor(number: string, remaining: number, amount: number) {
    super(
      'payment_exceeds_amount_due',
      `${number} has ${remaining} left to pay; a payment of ${amount} would exceed it ` +
        '(there is no credit balance).',
    );
  }
}
