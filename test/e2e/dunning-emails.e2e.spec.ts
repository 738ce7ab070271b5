import { DEFAULT_HOLD_REASON_CUSTOMER_TEXTS } from '../../src/config/app-config';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import {
  advanceToDaysOverdue,
  DunningCallers,
  issueInvoice,
  pay,
  runDunning,
  voidInvoice,
} from '../support/dunning';
import { startSmtpServer, TestSmtpServer } from '../support/smtp';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

/**
 * The dunning ladder as the customer reads it, through a real SMTP server: a warning per step
 * (never the void reason or any internal text), the suspension at 30 days with the customer text
 * of `non_payment`, and the restoration when the invoice is paid.
 */
describe('dunning: what the customer is told', () => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let clock: TestClock;
  let developer: StaffSession;
  let callers: DunningCallers;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    clock = new TestClock();
    t = await startTestApp(
      {
        SMTP_URL: smtp.url,
        EMAIL_FROM: 'Billing <billing@provider.test>',
        EMAIL_RETRY_SCHEDULE: '100ms,100ms',
        OUTBOX_POLL_INTERVAL_MS: '50',
      },
      { clock },
    );
    const manager = await signIn(t, 'account_manager');
    developer = await signIn(t, 'developer');
    callers = { developer: developer.header, manager: manager.header };
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const run = () => runDunning(t, developer.header).expect(201);

  it('warns at 8 and 22 days, suspends at 31 and restores on payment: four emails, in order', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id, { amount: 4900 });

    advanceToDaysOverdue(clock, invoice, 8);
    await run();
    const [first] = await smtp.waitFor(customer.email, 1);
    expect(first.subject).toBe(`Invoice ${invoice.number} is overdue`);
    expect(first.text).toContain('is 8 days overdue; 49.00 EUR remains to be paid.');

    await pay(t, invoice.id, callers.manager, { amount: 1500 }).expect(201);
    advanceToDaysOverdue(clock, invoice, 22);
    await run();
    const second = (await smtp.waitFor(customer.email, 2))[1];
    expect(second.subject).toBe(`Invoice ${invoice.number} is overdue`);
    expect(second.text).toContain('is 22 days overdue; 34.00 EUR remains to be paid.');

    advanceToDaysOverdue(clock, invoice, 31);
    await run();
    const third = (await smtp.waitFor(customer.email, 3))[2];
    expect(third.subject).toBe('Your account has been suspended');
    expect(third.text).toContain(DEFAULT_HOLD_REASON_CUSTOMER_TEXTS.non_payment);
    // The hold's reason names the invoice numbers: internal, never in the email.
    expect(third.text).not.toContain(invoice.number);

    await pay(t, invoice.id, callers.manager, { amount: 3400 }).expect(201);
    const fourth = (await smtp.waitFor(customer.email, 4))[3];
    expect(fourth.subject).toMatch(/restored|enabled|active/i);
    expect(smtp.to(customer.email)).toHaveLength(4);
  });

  it('never shows a void reason, and sends nothing once the invoice is void', async () => {
    const customer = await createCustomer(t);
    const invoice = await issueInvoice(t, clock, callers, customer.id);
    advanceToDaysOverdue(clock, invoice, 8);
    await run();
    const [warning] = await smtp.waitFor(customer.email, 1);
    await voidInvoice(t, invoice.id, callers.manager, {
      reason: 'INTERNAL-write-off-by-finance',
    }).expect(200);
    advanceToDaysOverdue(clock, invoice, 40);
    await run();
    // A later customer's email proves the queue has moved past this one's.
    const later = await createCustomer(t);
    const laterInvoice = await issueInvoice(t, clock, callers, later.id);
    advanceToDaysOverdue(clock, laterInvoice, 8);
    await run();
    await smtp.waitFor(later.email, 1);
    expect(smtp.to(customer.email)).toEqual([warning]);
    for (const mail of smtp.accepted) expect(mail.raw).not.toContain('INTERNAL-write-off');
  });
});
