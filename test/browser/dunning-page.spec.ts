import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium } from '../support/chromium';
import {
  advanceToDaysOverdue,
  DunningCallers,
  InvoiceBody,
  issueInvoice,
} from '../support/dunning';
import { createCustomer, createStaff, STAFF_PASSWORD } from '../support/factories';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

/**
 * Dunning on the admin page (issue 11): a customer's invoices with their state and days overdue,
 * "Record payment" for account managers, holds of the rules marked as such, and the "Dunning
 * exempt" toggle. The service runs on a test clock; the rules are run through the API.
 */
const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');

jest.setTimeout(120_000);

describe('dunning on the admin page, in Chromium', () => {
  let t: TestApp;
  let clock: TestClock;
  let browser: Browser;
  let baseUrl: string;
  let callers: DunningCallers;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    execFileSync('npm', ['run', '--silent', 'build:admin'], { cwd: ROOT, stdio: 'pipe' });
    mkdirSync(ARTIFACTS, { recursive: true });
    clock = new TestClock();
    t = await startTestApp({}, { clock });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
    const developer = await createStaff(t, 'developer');
    const manager = await createStaff(t, 'account_manager');
    callers = {
      developer: { Authorization: `Bearer ${t.sign(developer.id)}` },
      manager: { Authorization: `Bearer ${t.sign(manager.id)}` },
    };
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    expect(pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function openAs(email: string, customerId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${baseUrl}/admin/#/customers/${customerId}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  /** A customer held by the rules for one invoice of 120.00 EUR, 31 days past due. */
  async function heldCustomer(name: string): Promise<{ id: string; invoice: InvoiceBody }> {
    const customer = await createCustomer(t, { name });
    const invoice = await issueInvoice(t, clock, callers, customer.id, { amount: 12_000 });
    advanceToDaysOverdue(clock, invoice, 31);
    await request(t.http).post('/api/v1/dunning/runs').set(callers.developer).send().expect(201);
    return { id: customer.id, invoice };
  }

  const invoiceRow = async (id: string) =>
    (
      await t.db.query<{ status: string; amount_paid: number }[]>(
        'SELECT status, amount_paid FROM invoices WHERE id = $1',
        [id],
      )
    )[0];

  it('shows the invoices and the rules’ hold, and records payments: a part keeps the hold, the rest lifts it', async () => {
    const manager = await createStaff(t, 'account_manager', { name: 'Mia Manager' });
    const { id, invoice } = await heldCustomer('Late Payer Ltd');
    const page = await openAs(manager.email, id);
    await page.getByRole('heading', { name: 'Late Payer Ltd', level: 1 }).waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Disabled');

    const holds = page.getByRole('region', { name: 'Holds' });
    const ruleHold = holds.getByRole('row', { name: /Non-payment/ });
    await ruleHold.waitFor();
    expect(await ruleHold.innerText()).toContain('Placed by the dunning rules');
    expect(await ruleHold.innerText()).toContain('the dunning rules (automatic)');
    expect(await ruleHold.innerText()).toContain(invoice.number);

    const invoices = page.getByRole('region', { name: 'Invoices and dunning' });
    const row = invoices.getByRole('row', { name: new RegExp(invoice.number) });
    await row.waitFor();
    expect(await row.innerText()).toContain('Overdue');
    expect(await row.innerText()).toContain('120.00 EUR');
    expect(await row.locator('[data-days-overdue]').innerText()).toBe('31');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-dunning-held.png'), fullPage: true });

    // More than remains due is stopped in the dialog: there is no credit balance.
    const pay = row.getByRole('button', { name: `Record a payment of ${invoice.number}` });
    await pay.click();
    const dialog = page.getByRole('dialog', { name: `Record a payment of ${invoice.number}` });
    await dialog.waitFor();
    const amount = dialog.getByLabel('Amount (EUR)');
    expect(await amount.inputValue()).toBe('120.00');
    await amount.fill('150');
    await dialog.getByRole('button', { name: 'Record payment' }).click();
    await dialog.getByText('That is more than remains due (120.00 EUR)').waitFor();
    expect(await dialog.isVisible()).toBe(true);
    expect(await invoiceRow(invoice.id)).toEqual({ status: 'open', amount_paid: 0 });

    await amount.fill('20.5');
    await dialog.getByLabel('Reference (optional)').fill('Bank 991');
    await dialog.getByRole('button', { name: 'Record payment' }).click();
    await page
      .getByRole('status')
      .getByText(`Payment of 20.50 EUR recorded for ${invoice.number}. 99.50 EUR remains due.`)
      .waitFor();
    expect(await invoiceRow(invoice.id)).toEqual({ status: 'open', amount_paid: 2050 });
    expect(await page.locator('#customer-status').innerText()).toBe('Disabled');

    await row.getByRole('button', { name: /Record a payment/ }).click();
    await dialog.waitFor();
    expect(await amount.inputValue()).toBe('99.50');
    await dialog.getByRole('button', { name: 'Record payment' }).click();
    await page
      .getByRole('status')
      .getByText(/The invoice is paid\. Late Payer Ltd is enabled now\./)
      .waitFor();
    expect(await invoiceRow(invoice.id)).toEqual({ status: 'paid', amount_paid: 12_000 });
    await row.getByText('Paid', { exact: true }).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect(await page.locator('#customer-status').innerText()).toBe('Enabled');
    await ruleHold.getByText('by the dunning rules (automatic)').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-dunning-paid.png'), fullPage: true });
  });

  it('lets an account manager make a customer dunning exempt, which lifts the rules’ hold; others only read it', async () => {
    const manager = await createStaff(t, 'account_manager');
    const support = await createStaff(t, 'customer_support');
    const { id, invoice } = await heldCustomer('Exempt Candidate Ltd');

    const readOnly = await openAs(support.email, id);
    await readOnly.getByRole('heading', { name: 'Exempt Candidate Ltd', level: 1 }).waitFor();
    const region = readOnly.getByRole('region', { name: 'Invoices and dunning' });
    await region.getByRole('row', { name: new RegExp(invoice.number) }).waitFor();
    expect(await region.getByRole('button', { name: /Record a payment/ }).count()).toBe(0);
    expect(await readOnly.getByLabel('Dunning exempt').count()).toBe(0);
    expect(await readOnly.locator('.details').innerText()).toContain('The dunning rules apply');

    const page = await openAs(manager.email, id);
    // Lifting the rules' hold by hand says what the rules will do after it; Escape changes nothing.
    await page
      .getByRole('region', { name: 'Holds' })
      .getByRole('button', { name: /^Lift the Non-payment hold/ })
      .click();
    const lift = page.getByRole('dialog', { name: /^Lift this hold/ });
    await lift
      .getByText('they will not hold the customer again for the same invoices', { exact: false })
      .waitFor();
    await page.keyboard.press('Escape');
    await lift.waitFor({ state: 'hidden' });
    const toggle = page.getByLabel('Dunning exempt');
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await page
      .getByRole('status')
      .getByText(
        'Exempt Candidate Ltd is dunning exempt: the dunning rules will not hold it. Exempt Candidate Ltd is enabled now.',
      )
      .waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Enabled');
    expect(await page.locator('.details').innerText()).toContain(
      'Exempt: never held by the dunning rules',
    );
    const [row] = await t.db.query<{ dunning_exempt: boolean; lifted_by_type: string }[]>(
      `SELECT c.dunning_exempt, h.lifted_by_type FROM customers c
         JOIN holds h ON h.customer_id = c.id AND h.source = 'overdue' WHERE c.id = $1`,
      [id],
    );
    expect(row).toEqual({ dunning_exempt: true, lifted_by_type: 'system' });
    await page.locator('#dunning-exempt:focus').waitFor();
  });
});
