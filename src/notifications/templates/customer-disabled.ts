import { compose, EmailRecipient, formatTime, greeting, RenderedEmail } from './email';

/** The customer's access was suspended (now, or when a scheduled hold started). */
export interface CustomerDisabledContext {
  customer: EmailRecipient;
  /** The customer-facing text of the reason code of the hold that disabled it. */
  reasonText: string;
  /** When that hold ends by itself; null: until it is lifted. */
  endsAt: Date | null;
}

export function customerDisabledEmail(context: CustomerDisabledContext): RenderedEmail {
  const until = context.endsAt
    ? ` until ${formatTime(context.endsAt)}`
    : ' until the matter is resolved';
  return compose('Your account has been suspended', [
    greeting(context.customer),
    `Access to your account has been suspended${until}.`,
    context.reasonText,
    'To restore access, or if you think this is a mistake, please reply to this email.',
  ]);
}
