import { customerDisabledEmail } from './customer-disabled';
import { customerEnabledEmail } from './customer-enabled';
import { escapeHtml, RenderedEmail } from './email';
import { holdScheduledEmail } from './hold-scheduled';

const START = new Date('2026-12-01T00:00:00.000Z');
const END = new Date('2026-12-15T09:30:00.000Z');
const REASON_TEXT = 'Your account has an unpaid balance.';

const parts = (email: RenderedEmail) => [email.subject, email.text, email.html];

describe('the customer email templates', () => {
  describe('hold_scheduled', () => {
    it('warns of the start and the end, with the reason code’s text and the customer’s name', () => {
      const email = holdScheduledEmail({
        customer: { name: 'Acme Ltd' },
        reasonText: REASON_TEXT,
        startsAt: START,
        endsAt: END,
      });
      expect(email.subject).toBe('Your account will be suspended on 2026-12-01 00:00 UTC');
      expect(email.text).toBe(
        'Hello Acme Ltd,\n\n' +
          'We are letting you know in advance: access to your account will be suspended from ' +
          '2026-12-01 00:00 UTC until 2026-12-15 09:30 UTC.\n\n' +
          `${REASON_TEXT}\n\n` +
          'If you can settle this before then, or think this is a mistake, please reply to this email.\n',
      );
      expect(email.html).toContain('<p>Hello Acme Ltd,</p>');
      expect(email.html).toContain('2026-12-01 00:00 UTC until 2026-12-15 09:30 UTC');
      expect(email.html).toContain(`<p>${REASON_TEXT}</p>`);
    });

    it('names no end when the hold has none, and no one when the customer has no name', () => {
      const email = holdScheduledEmail({
        customer: { name: null },
        reasonText: REASON_TEXT,
        startsAt: START,
        endsAt: null,
      });
      expect(email.text.startsWith('Hello,\n\n')).toBe(true);
      expect(email.text).toContain('suspended from 2026-12-01 00:00 UTC.');
      expect(email.text).not.toContain('until');
    });
  });

  describe('customer_disabled', () => {
    it('says access is suspended, until when, and why in the customer’s words', () => {
      const email = customerDisabledEmail({
        customer: { name: 'Acme Ltd' },
        reasonText: REASON_TEXT,
        endsAt: END,
      });
      expect(email.subject).toBe('Your account has been suspended');
      expect(email.text).toContain('Hello Acme Ltd,');
      expect(email.text).toContain(
        'Access to your account has been suspended until 2026-12-15 09:30 UTC.',
      );
      expect(email.text).toContain(REASON_TEXT);
      expect(email.html).toContain(`<p>${REASON_TEXT}</p>`);
    });

    it('without an end: until the matter is resolved', () => {
      const email = customerDisabledEmail({
        customer: { name: 'Acme Ltd' },
        reasonText: REASON_TEXT,
        endsAt: null,
      });
      expect(email.text).toContain('suspended until the matter is resolved.');
    });
  });

  describe('customer_enabled', () => {
    it('says access is restored', () => {
      const email = customerEnabledEmail({ customer: { name: 'Acme Ltd' } });
      expect(email.subject).toBe('Your account is active again');
      expect(email.text).toContain('Hello Acme Ltd,');
      expect(email.text).toContain('Access to your account has been restored');
      expect(email.html).toContain('<p>Hello Acme Ltd,</p>');
    });
  });

  it('escapes every interpolated value in the HTML, and leaves the text as it is', () => {
    const name = '<script>alert("x")</script> & Sons';
    const reasonText = 'Balance <b>overdue</b> & "due"';
    const emails = [
      holdScheduledEmail({ customer: { name }, reasonText, startsAt: START, endsAt: END }),
      customerDisabledEmail({ customer: { name }, reasonText, endsAt: null }),
      customerEnabledEmail({ customer: { name } }),
    ];
    for (const email of emails) {
      expect(email.html).not.toContain('<script>');
      expect(email.html).toContain(escapeHtml(name));
      expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons');
      expect(email.text).toContain(name);
    }
    for (const email of emails.slice(0, 2)) {
      expect(email.html).not.toContain('<b>');
      expect(email.html).toContain('Balance &lt;b&gt;overdue&lt;/b&gt; &amp; &quot;due&quot;');
    }
  });

  it('makes a whole HTML document with the subject as its title', () => {
    const email = customerEnabledEmail({ customer: { name: 'A & B' } });
    expect(email.html).toMatch(/^<!DOCTYPE html>\n<html>/);
    expect(email.html).toContain('<title>Your account is active again</title>');
    expect(email.html).toContain('<p>Hello A &amp; B,</p>');
    expect(parts(email).every((part) => part.length > 0)).toBe(true);
  });
});
