import { compose, EmailRecipient, formatTime, greeting, RenderedEmail } from './email';

/** A hold that has not started yet: the customer is warned before it does. */
export interface HoldScheduledContext {
  customer: EmailRecipient;
  /** The customer-facing text of the hold's reason code (HOLD_REASON_CUSTOMER_TEXTS). */
  reasonText: string;
  startsAt: Date;
  endsAt: Date | null;
}

export function holdScheduledEmail(context: HoldScheduledContext): RenderedEmail {
  const start = formatTime(context.startsAt);
  const until = context.endsAt ? ` until ${formatTime(context.endsAt)}` : '';
  return compose(`Your account will be suspended on ${start}`, [
    greeting(context.customer),
    `We are letting you know in advance: access to your account will be suspended from ${start}${until}.`,
    context.reasonText,
    'If you can settle this before then, or think this is a mistake, please reply to this email.',
  ]);
}
