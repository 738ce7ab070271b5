import type { AppConfig } from '../config/app-config';
import { DEFAULT_HOLD_REASON_CUSTOMER_TEXTS } from '../config/app-config';
import type { NewEvent } from '../events/event-outbox';
import type { NotificationKind } from './entities/customer-notification.entity';
import { customerDisabledEmail } from './templates/customer-disabled';
import { customerEnabledEmail } from './templates/customer-enabled';
import type { EmailRecipient, RenderedEmail } from './templates/email';
import { holdScheduledEmail } from './templates/hold-scheduled';
import { invoiceOverdueEmail } from './templates/invoice-overdue';

/**
 * The few fields of an event's data (`{customer, hold?}` as the feed shows them) that an email
 * may use. The internal `reason`, `disabled_reason` and `lift_reason` are deliberately not
 * here: nothing below can hand them to a template.
 */
interface EmailEventData {
  customer?: { email?: string | null; name?: string | null };
  hold?: {
    reason_code?: string;
    state?: string;
    starts_at?: string;
    ends_at?: string | null;
  };
  /** Of `invoice.overdue`: never its `void_reason`. */
  invoice?: {
    number?: string;
    currency?: string;
    amount_due?: number;
    amount_paid?: number;
    due_at?: string;
  };
  days_overdue?: number;
}

/** Which email an event means for its customer, if any. */
export function notificationKindOf(
  event: Pick<NewEvent, 'type' | 'data' | 'notifyCustomer'>,
): NotificationKind | null {
  if (event.notifyCustomer === false) return null;
  const data = event.data as EmailEventData;
  if (!data.customer?.email) return null;
  switch (event.type) {
    case 'hold.placed':
      // A hold in force at once is told by its `customer.disabled`, if it changes anything.
      return data.hold?.state === 'scheduled' ? 'hold_scheduled' : null;
    case 'customer.disabled':
      return 'customer_disabled';
    case 'customer.enabled':
      return 'customer_enabled';
    case 'invoice.overdue':
      return 'invoice_overdue';
    default:
      return null;
  }
}

/** What the customer reads for a reason code: its configured text, else `other`'s. */
export function customerTextOf(
  reasonCode: string | undefined,
  texts: AppConfig['holdReasonCustomerTexts'],
): string {
  return (
    (reasonCode !== undefined ? texts[reasonCode] : undefined) ??
    texts.other ??
    DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.other
  );
}

/** The email of `kind` about an event, from the event's data as it was committed. */
export function renderNotification(
  kind: NotificationKind,
  eventData: Record<string, unknown>,
  texts: AppConfig['holdReasonCustomerTexts'],
): RenderedEmail {
  const data = eventData as EmailEventData;
  const customer: EmailRecipient = { name: data.customer?.name ?? null };
  const hold = data.hold;
  const reasonText = customerTextOf(hold?.reason_code, texts);
  const endsAt = hold?.ends_at ? new Date(hold.ends_at) : null;
  switch (kind) {
    case 'hold_scheduled':
      if (!hold?.starts_at) throw new Error('A hold_scheduled email needs the hold’s start');
      return holdScheduledEmail({
        customer,
        reasonText,
        startsAt: new Date(hold.starts_at),
        endsAt,
      });
    case 'customer_disabled':
      return customerDisabledEmail({ customer, reasonText, endsAt });
    case 'customer_enabled':
      return customerEnabledEmail({ customer });
    case 'invoice_overdue': {
      const invoice = data.invoice;
      if (!invoice?.number || !invoice.currency || !invoice.due_at) {
        throw new Error(
          'An invoice_overdue email needs the invoice’s number, currency and due date',
        );
      }
      return invoiceOverdueEmail({
        customer,
        invoice: {
          number: invoice.number,
          currency: invoice.currency,
          remaining: (invoice.amount_due ?? 0) - (invoice.amount_paid ?? 0),
          dueAt: new Date(invoice.due_at),
        },
        daysOverdue: data.days_overdue ?? 0,
      });
    }
  }
}
