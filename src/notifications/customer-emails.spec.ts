import { DEFAULT_HOLD_REASON_CUSTOMER_TEXTS } from '../config/app-config';
import type { EventType } from '../events/entities/event.entity';
import { customerTextOf, notificationKindOf, renderNotification } from './customer-emails';
import { NOTIFICATION_KINDS } from './entities/customer-notification.entity';

/** A distinctive internal reason: it must never reach a customer. */
const INTERNAL = 'INTERNAL-fraud-suspicion-7f3a';

/** An event's data as the outbox records it: the customer and hold DTOs, internal fields included. */
function eventData(hold: { state: string; reason_code?: string; ends_at?: string | null }) {
  return {
    customer: {
      id: '2f5a1c4e-1111-4aaa-8bbb-000000000001',
      email: 'billing@acme.test',
      name: 'Acme Ltd',
      status: 'disabled',
      disabled_reason: INTERNAL,
      holds: [],
    },
    hold: {
      id: '2f5a1c4e-1111-4aaa-8bbb-000000000002',
      reason_code: hold.reason_code ?? 'non_payment',
      reason: INTERNAL,
      starts_at: '2026-12-01T00:00:00.000Z',
      ends_at: hold.ends_at ?? null,
      state: hold.state,
      lift_reason: INTERNAL,
    },
    invoice: {
      id: '2f5a1c4e-1111-4aaa-8bbb-000000000003',
      number: 'INV-000042',
      currency: 'EUR',
      amount_due: 4900,
      amount_paid: 1500,
      due_at: '2026-11-01T00:00:00.000Z',
      void_reason: INTERNAL,
    },
    days_overdue: 8,
  };
}

const event = (type: EventType, data: Record<string, unknown>, notifyCustomer?: boolean) => ({
  type,
  data,
  notifyCustomer,
});

describe('which email an event means', () => {
  it('a scheduled hold warns; a hold in force at once is told by the transition', () => {
    expect(notificationKindOf(event('hold.placed', eventData({ state: 'scheduled' })))).toBe(
      'hold_scheduled',
    );
    expect(notificationKindOf(event('hold.placed', eventData({ state: 'active' })))).toBeNull();
    expect(notificationKindOf(event('customer.disabled', eventData({ state: 'active' })))).toBe(
      'customer_disabled',
    );
    expect(notificationKindOf(event('customer.enabled', eventData({ state: 'lifted' })))).toBe(
      'customer_enabled',
    );
    expect(notificationKindOf(event('invoice.overdue', eventData({ state: 'active' })))).toBe(
      'invoice_overdue',
    );
  });

  it('nothing for the other events, for notify_customer false, or without an email address', () => {
    for (const type of [
      'hold.lifted',
      'hold.expired',
      'invoice.paid',
      'webhook.test',
    ] as EventType[]) {
      expect(notificationKindOf(event(type, eventData({ state: 'lifted' })))).toBeNull();
    }
    expect(
      notificationKindOf(event('customer.disabled', eventData({ state: 'active' }), false)),
    ).toBeNull();
    expect(notificationKindOf(event('customer.disabled', { customer: { email: '' } }))).toBeNull();
    expect(notificationKindOf(event('customer.enabled', {}))).toBeNull();
  });
});

describe('rendering an event’s email', () => {
  it('never shows the internal reason, disabled_reason or lift_reason, in any kind', () => {
    for (const kind of NOTIFICATION_KINDS) {
      const email = renderNotification(
        kind,
        eventData({ state: 'scheduled', ends_at: '2026-12-15T00:00:00.000Z' }),
        DEFAULT_HOLD_REASON_CUSTOMER_TEXTS,
      );
      for (const part of [email.subject, email.text, email.html]) {
        expect(part).not.toContain(INTERNAL);
        expect(part.toLowerCase()).not.toContain('fraud');
      }
    }
  });

  it('gives the reason code’s configured text, falling back to other’s', () => {
    const texts = {
      ...DEFAULT_HOLD_REASON_CUSTOMER_TEXTS,
      compliance: 'We must check a few papers.',
    };
    const compliance = renderNotification(
      'customer_disabled',
      eventData({ state: 'active', reason_code: 'compliance' }),
      texts,
    );
    expect(compliance.text).toContain('We must check a few papers.');
    const unknown = renderNotification(
      'customer_disabled',
      eventData({ state: 'active', reason_code: 'legal_hold' }),
      texts,
    );
    expect(unknown.text).toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.other);
    expect(customerTextOf(undefined, texts)).toBe(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.other);
  });

  it('a scheduled hold’s email gives its start and end', () => {
    const email = renderNotification(
      'hold_scheduled',
      eventData({ state: 'scheduled', ends_at: '2026-12-15T00:00:00.000Z' }),
      DEFAULT_HOLD_REASON_CUSTOMER_TEXTS,
    );
    expect(email.subject).toBe('Your account will be suspended on 2026-12-01 00:00 UTC');
    expect(email.text).toContain('from 2026-12-01 00:00 UTC until 2026-12-15 00:00 UTC');
    expect(email.text).toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.non_payment);
  });

  it('a dunning warning names the invoice, its due date, days overdue and what remains', () => {
    const email = renderNotification(
      'invoice_overdue',
      eventData({ state: 'active' }),
      DEFAULT_HOLD_REASON_CUSTOMER_TEXTS,
    );
    expect(email.subject).toBe('Invoice INV-000042 is overdue');
    expect(email.text).toContain(
      'Invoice INV-000042 was due on 2026-11-01 00:00 UTC and is 8 days overdue; 34.00 EUR remains to be paid.',
    );
    expect(email.html).toContain('<p>Invoice INV-000042 was due on');
  });
});
