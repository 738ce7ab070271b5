import {
  compose,
  EmailRecipient,
  formatAmount,
  formatTime,
  greeting,
  RenderedEmail,
} from './email';

/** A dunning warning: an invoice is past due (a step of DUNNING_WARN_DAYS). */
export interface InvoiceOverdueContext {
  customer: EmailRecipient;
  invoice: {
    number: string;
    currency: string;
    /** Minor units still due. */
    remaining: number;
    dueAt: Date;
  };
  daysOverdue: number;
}

export function invoiceOverdueEmail(context: InvoiceOverdueContext): RenderedEmail {
  const { invoice } = context;
  const days = context.daysOverdue === 1 ? '1 day' : `${context.daysOverdue} days`;
  return compose(`Invoice ${invoice.number} is overdue`, [
    greeting(context.customer),
    `Invoice ${invoice.number} was due on ${formatTime(invoice.dueAt)} and is ${days} overdue; ` +
      `${formatAmount(invoice.remaining, invoice.currency)} remains to be paid.`,
    'If it stays unpaid, access to your account may be suspended until it is settled.',
    'If you have paid it in the meantime, thank you, and please disregard this email.',
  ]);
}
