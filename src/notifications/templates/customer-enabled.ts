import { compose, EmailRecipient, greeting, RenderedEmail } from './email';

/** The customer's access is back. */
export interface CustomerEnabledContext {
  customer: EmailRecipient;
}

export function customerEnabledEmail(context: CustomerEnabledContext): RenderedEmail {
  return compose('Your account is active again', [
    greeting(context.customer),
    'Access to your account has been restored: everything works as before.',
    'Thank you for your patience.',
  ]);
}
