import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { buildOpenApiDocument } from '../../src/openapi/openapi';
import { createCustomer, createStaff, signIn, STAFF_PASSWORD } from '../support/factories';
import { createPlan, createSubscription } from '../support/plans';
import { launchChromium } from '../support/chromium';
import { startSmtpServer, TestSmtpServer } from '../support/smtp';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The admin page as staff use it: the real service on a real database, listening on a port,
 * driven through Debian's Chromium (never a downloaded browser). The page is built first, so
 * the test always runs the current sources.
 */
const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');

jest.setTimeout(120_000);

describe('the admin page, in Chromium', () => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    execFileSync('npm', ['run', '--silent', 'build:admin'], { cwd: ROOT, stdio: 'pipe' });
    mkdirSync(ARTIFACTS, { recursive: true });
    // Customer emails on, as a deployment with SMTP_URL has them, to a real server on loopback.
    smtp = await startSmtpServer();
    t = await startTestApp({
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Acme Billing <billing@acme.test>',
      OUTBOX_POLL_INTERVAL_MS: '50',
    });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    // An uncaught error in the page is a bug even when the test's own checks passed.
    expect(pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.close();
  });

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  async function signInAs(page: Page, email: string, path = '/admin/'): Promise<void> {
    await page.goto(`${baseUrl}${path}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor({ state: 'detached' });
  }

  const alertText = async (page: Page) => {
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: /\S/ }).waitFor();
    return alert.innerText();
  };
  const customerRow = async (id: string) =>
    (
      await t.db.query<{ status: string; disabled_reason: string | null }[]>(
        'SELECT status, disabled_reason FROM customers WHERE id = $1',
        [id],
      )
    )[0];
  const auditActions = async (customerId: string) =>
    (
      await t.db.query<{ action: string; actor_id: string; reason: string | null }[]>(
        // Status transitions only: each hold change has entries of its own.
        `SELECT action, actor_id, reason FROM audit_logs
          WHERE customer_id = $1 AND action LIKE 'customer.%' ORDER BY created_at`,
        [customerId],
      )
    ).map((row) => [row.action, row.actor_id, row.reason]);

  const disableThroughApi = async (staffId: string, customerId: string, reason: string) =>
    request(t.http)
      .post(`/api/v1/customers/${customerId}/disable`)
      .set({ Authorization: `Bearer ${t.sign(staffId)}` })
      .send({ reason })
      .expect(200);
  /** A hold placed through the API, as any other client would: answers the hold. */
  const placeHold = async (
    staffId: string,
    customerId: string,
    body: Record<string, unknown>,
  ): Promise<{ id: string; state: string; starts_at: string }> =>
    (
      await request(t.http)
        .post(`/api/v1/customers/${customerId}/holds`)
        .set({ Authorization: `Bearer ${t.sign(staffId)}` })
        .send(body)
        .expect(201)
    ).body;
  const holdRows = async (customerId: string) =>
    t.db.query<
      { reason_code: string; lifted: boolean; lift_reason: string | null; ends_at: Date | null }[]
    >(
      `SELECT reason_code, lifted_at IS NOT NULL AS lifted, lift_reason, ends_at
         FROM holds WHERE customer_id = $1 ORDER BY placed_at, id`,
      [customerId],
    );

  it('is served at /admin as static files with a strict content security policy, outside the API document', async () => {
    const redirect = await fetch(`${baseUrl}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/admin/');

    const index = await fetch(`${baseUrl}/admin/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    // Its own policy, stricter than the service's, with the service's other security headers.
    expect(index.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; script-src 'self'; style-src 'self';/,
    );
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const script = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${baseUrl}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');

    const missing = await fetch(`${baseUrl}/admin/no-such-file.js`);
    expect(missing.status).toBe(404);
    expect(
      Object.keys(buildOpenApiDocument(t.app).paths).filter((p) => p.includes('admin')),
    ).toEqual([]);
  });

  it('signs staff in, shows a refused password in the alert region, and signs out', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Sam Support' });
    const page = await openPage();
    await page.goto(`${baseUrl}/admin/`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();

    await page.getByLabel('Email').fill(support.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await alertText(page)).toContain('Could not sign in');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await page.getByLabel('Password').fill(STAFF_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as Sam Support (customer support)').waitFor();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    // Focus moves to the new view's heading, where a screen reader starts reading.
    await page.locator('h1:focus').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await page.getByRole('status').innerText()).toBe('You are signed out.');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('lets customer support disable a customer with a reason, after a confirmation, and enable it again', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Sam Support' });
    const customer = await createCustomer(t, { name: 'Acme Browser Ltd', reference: 'ACME-B1' });
    const plan = await createPlan(t);
    await createSubscription(t, customer.id, plan.id);
    const page = await openPage();
    await signInAs(page, support.email);

    await page.getByLabel('Search').fill('Acme Browser');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Acme Browser Ltd' }).click();
    await page.getByRole('heading', { name: 'Acme Browser Ltd', level: 1 }).waitFor();
    const actions = page.getByRole('region', { name: 'Customer actions' });
    const badge = page.locator('#customer-status');
    expect(await badge.innerText()).toBe('Enabled');
    expect(await actions.getByRole('button').count()).toBe(1);
    const disable = actions.getByRole('button', { name: 'Disable', exact: true });
    await page
      .getByRole('region', { name: 'Audit trail' })
      .getByText('No status changes')
      .waitFor();
    const subscriptions = page.getByRole('region', { name: 'Subscriptions' });
    const subscription = subscriptions.getByRole('row', { name: new RegExp(plan.code) });
    expect(await subscription.innerText()).toContain('active');
    await page.screenshot({
      path: join(ARTIFACTS, 'admin-profile-before-disable.png'),
      fullPage: true,
    });

    // The confirmation reminds staff to inform the customer; Escape backs out and changes nothing.
    await actions.getByLabel('Reason (optional)').fill('Unpaid invoice INV-42');
    await disable.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Disable Acme Browser Ltd?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('Inform the customer first.');
    expect(await dialog.innerText()).toContain('Unpaid invoice INV-42');
    await dialog.getByRole('button', { name: 'Cancel' }).and(page.locator(':focus')).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#status-action:focus').waitFor();
    expect(await customerRow(customer.id)).toEqual({ status: 'enabled', disabled_reason: null });

    await disable.click();
    await dialog.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-disable-confirmation.png') });
    await dialog.getByRole('button', { name: 'Disable customer' }).click();
    const enable = actions.getByRole('button', { name: 'Enable', exact: true });
    await enable.waitFor();
    expect(await actions.getByRole('button').count()).toBe(1);
    expect(await badge.innerText()).toBe('Disabled');
    expect(await page.locator('.status-line').innerText()).toMatch(
      /Disabled since \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    );
    expect(await page.getByRole('status').innerText()).toBe('Acme Browser Ltd is disabled.');
    await page.locator('#notice:focus').waitFor();
    const trail = page.getByRole('region', { name: 'Audit trail' });
    // The status changes among the trail's entries (each hold change has entries of its own).
    const statusEntries = trail
      .locator('tbody tr')
      .filter({ has: page.locator('td', { hasText: /^(Disabled|Enabled)$/ }) });
    const firstEntry = statusEntries.first();
    await firstEntry.getByText('Disabled', { exact: true }).waitFor();
    expect(await firstEntry.innerText()).toContain('Sam Support (staff)');
    expect(await firstEntry.innerText()).toContain('Unpaid invoice INV-42');
    await page
      .getByRole('region', { name: 'Internal notes' })
      .getByText('Unpaid invoice INV-42')
      .waitFor();
    await page.screenshot({
      path: join(ARTIFACTS, 'admin-profile-after-disable.png'),
      fullPage: true,
    });
    // Disabling freezes the subscriptions; it does not cancel them.
    expect(await subscription.innerText()).toContain('active');
    expect(await customerRow(customer.id)).toEqual({
      status: 'disabled',
      disabled_reason: 'Unpaid invoice INV-42',
    });
    expect(await auditActions(customer.id)).toEqual([
      ['customer.disabled', support.id, 'Unpaid invoice INV-42'],
    ]);

    // The list for review shows since when it is disabled.
    await page.getByRole('link', { name: '← All customers' }).click();
    await page.getByLabel('Status').selectOption('disabled');
    await page.getByLabel('Search').fill('Acme Browser');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 customer matching “Acme Browser”, disabled').waitFor();
    const row = page.getByRole('row', { name: /Acme Browser Ltd/ });
    await row.getByText(/Disabled since \d{4}-\d\d-\d\d/).waitFor();
    // And why: the reason of its earliest active hold.
    expect(await row.innerText()).toContain('Unpaid invoice INV-42');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-customers-disabled.png') });
    await row.getByRole('link').click();

    await enable.click();
    await page
      .getByRole('dialog', { name: 'Enable Acme Browser Ltd?' })
      .getByRole('button', { name: 'Enable customer' })
      .click();
    await actions.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    expect(await badge.innerText()).toBe('Enabled');
    await statusEntries.nth(1).waitFor();
    expect(await statusEntries.first().innerText()).toContain('Enabled');
    expect(await statusEntries.nth(1).innerText()).toContain('Disabled');
    expect(await customerRow(customer.id)).toEqual({ status: 'enabled', disabled_reason: null });
    expect(await auditActions(customer.id)).toEqual([
      ['customer.disabled', support.id, 'Unpaid invoice INV-42'],
      ['customer.enabled', support.id, null],
    ]);
  });

  it('disables from the keyboard alone, then puts focus on the status notice, where Enter does nothing', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Kim Keys' });
    const customer = await createCustomer(t, { name: 'Keyboard Ltd' });
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Keyboard Ltd', level: 1 }).waitFor();
    await page.locator('h1:focus').waitFor();
    const posts: string[] = [];
    page.on('request', (sent) => {
      if (sent.method() === 'POST') posts.push(new URL(sent.url()).pathname);
    });

    // From the heading: Tab to the reason, type it, Tab to Disable, Enter; in the dialog Cancel
    // has focus, Tab to "Disable customer", Enter.
    await page.keyboard.press('Tab');
    await page.locator('#status-reason:focus').waitFor();
    await page.keyboard.type('Chargeback CB-9');
    await page.keyboard.press('Tab');
    await page.locator('#status-action:focus').waitFor();
    expect(await page.locator('#status-action').innerText()).toBe('Disable');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Disable Keyboard Ltd?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).and(page.locator(':focus')).waitFor();
    await page.keyboard.press('Tab');
    await dialog
      .getByRole('button', { name: 'Disable customer' })
      .and(page.locator(':focus'))
      .waitFor();
    await page.keyboard.press('Enter');

    // Focus is on the notice saying what happened, not on the new Enable button.
    const notice = page.getByRole('status');
    await notice.getByText('Keyboard Ltd is disabled.', { exact: true }).waitFor();
    await page.locator('#notice:focus').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-notice-focused-after-disable.png') });
    expect(await page.evaluate('document.activeElement.id')).toBe('notice');
    expect(await page.locator('#notice').getAttribute('tabindex')).toBe('-1');
    await page.getByRole('button', { name: 'Enable', exact: true }).waitFor();
    expect(await customerRow(customer.id)).toEqual({
      status: 'disabled',
      disabled_reason: 'Chargeback CB-9',
    });
    expect(posts).toEqual([`/api/v1/customers/${customer.id}/disable`]);

    // One more Enter, as a hurried user would press: nothing is sent, nothing opens.
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    expect(posts).toEqual([`/api/v1/customers/${customer.id}/disable`]);
    expect(await page.locator('dialog[open]').count()).toBe(0);
    expect(await page.locator('#customer-status').innerText()).toBe('Disabled');
    expect(await notice.innerText()).toBe('Keyboard Ltd is disabled.');
    expect(await customerRow(customer.id)).toEqual({
      status: 'disabled',
      disabled_reason: 'Chargeback CB-9',
    });
    expect(await auditActions(customer.id)).toEqual([
      ['customer.disabled', support.id, 'Chargeback CB-9'],
    ]);
    const limits = await request(t.http)
      .get(`/api/v1/customers/${customer.id}/limits`)
      .set({ Authorization: `Bearer ${t.sign(support.id)}` })
      .expect(200);
    expect(limits.body).toMatchObject({ status: 'disabled', disabled: true });
  });

  it('asks before enabling: Escape and Cancel change nothing, confirming enables', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Eve Enabler' });
    const customer = await createCustomer(t, { name: 'Comeback Ltd' });
    // Through the API: a disabled customer is one with an active hold, not a flag.
    await disableThroughApi(support.id, customer.id, 'Unpaid');
    const disabledRow = { status: 'disabled', disabled_reason: 'Unpaid' };
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    const actions = page.getByRole('region', { name: 'Customer actions' });
    const enable = actions.getByRole('button', { name: 'Enable', exact: true });
    const dialog = page.getByRole('dialog', { name: 'Enable Comeback Ltd?' });
    const cancel = dialog.getByRole('button', { name: 'Cancel' });

    // Escape backs out, from the keyboard.
    await enable.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('takes effect at once');
    expect(await dialog.innerText()).toContain('No reason given.');
    await cancel.and(page.locator(':focus')).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#status-action:focus').waitFor();
    expect(await customerRow(customer.id)).toEqual(disabledRow);

    // Cancel backs out too; the dialog shows the reason that would be recorded.
    await actions.getByLabel('Reason (optional)').fill('Paid in full');
    await enable.click();
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('Paid in full');
    await cancel.click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#status-action:focus').waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Disabled');
    expect(await customerRow(customer.id)).toEqual(disabledRow);
    const disabled = ['customer.disabled', support.id, 'Unpaid'];
    expect(await auditActions(customer.id)).toEqual([disabled]);

    await enable.click();
    await dialog.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-enable-confirmation.png') });
    await dialog.getByRole('button', { name: 'Enable customer' }).click();
    await page.getByRole('status').getByText('Comeback Ltd is enabled.', { exact: true }).waitFor();
    await page.locator('#notice:focus').waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Enabled');
    await actions.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    expect(await customerRow(customer.id)).toEqual({ status: 'enabled', disabled_reason: null });
    expect(await auditActions(customer.id)).toEqual([
      disabled,
      ['customer.enabled', support.id, 'Paid in full'],
    ]);
  });

  it('shows a read-only user the status but no Disable or Enable button, and no note form', async () => {
    const reader = await createStaff(t, 'user', { name: 'Rita Reader' });
    const customer = await createCustomer(t, { name: 'Readonly Co' });
    const support = await createStaff(t, 'customer_support');
    await disableThroughApi(support.id, customer.id, 'Dispute');
    const page = await openPage();
    await signInAs(page, reader.email, `/admin/#/customers/${customer.id}`);

    await page.getByRole('heading', { name: 'Readonly Co', level: 1 }).waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Disabled');
    const actions = page.getByRole('region', { name: 'Customer actions' });
    expect(await actions.innerText()).toContain('cannot disable or enable');
    expect(await page.getByRole('button', { name: /^(Disable|Enable)$/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Add note' }).count()).toBe(0);
  });

  it('lists customers by search and status, with pages', async () => {
    const reader = await createStaff(t, 'user');
    const tag = `pager${Date.now()}`;
    for (let i = 0; i < 27; i += 1) await createCustomer(t, { name: `${tag} customer ${i}` });
    const page = await openPage();
    await signInAs(page, reader.email);

    await page.getByLabel('Search').fill(tag);
    await page.getByLabel('Status').selectOption('enabled');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('tbody tr');
    await page.getByText(`25 customers matching “${tag}”, enabled`).waitFor();
    expect(await rows.count()).toBe(25);
    await page.getByRole('link', { name: 'Next page' }).click();
    await page.getByRole('link', { name: 'First page' }).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await page.getByRole('link', { name: 'Next page' }).count()).toBe(0);
    expect(page.url()).toContain('status=enabled');

    await page.getByLabel('Status').selectOption('disabled');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No customers match.').waitFor();
  });

  it('sends the user back to sign in with a message when the session has expired', async () => {
    const support = await createStaff(t, 'customer_support');
    const customer = await createCustomer(t, { name: 'Expiry Ltd' });
    const page = await openPage();
    await signInAs(page, support.email);

    const expiring = t.sign(support.id, { expiresIn: 1 });
    await page.evaluate(
      `sessionStorage.setItem('customer-access.admin.token', ${JSON.stringify(expiring)})`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await page.goto(`${baseUrl}/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await alertText(page)).toContain('Your session has ended');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // Signing in again goes back to where the user was.
    await page.getByLabel('Email').fill(support.email);
    await page.getByLabel('Password').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Expiry Ltd', level: 1 }).waitFor();
  });

  it('shows API errors in the alert region: 403 after a role change, 404, and no network', async () => {
    const support = await createStaff(t, 'customer_support');
    const customer = await createCustomer(t, { name: 'Errors Inc' });
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Errors Inc', level: 1 }).waitFor();

    // Roles apply to the next request: the page still offers the button, the service refuses.
    // Changed by an admin, as the service announces it to every instance's staff cache.
    const admin = await signIn(t, 'admin');
    await request(t.http)
      .patch(`/api/v1/users/${support.id}`)
      .set(admin.header)
      .send({ role: 'user' })
      .expect(200);
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('button', { name: 'Disable customer' }).click();
    expect(await alertText(page)).toMatch(/^Could not disable the customer\. Forbidden \(403/);
    // The service's detail says what was missing, so the user knows whom to ask.
    expect(await alertText(page)).toContain(
      'This needs the role customer_support or higher; you are user.',
    );
    expect(await page.locator('#customer-status').innerText()).toBe('Enabled');
    expect(await customerRow(customer.id)).toEqual({ status: 'enabled', disabled_reason: null });
    expect(await auditActions(customer.id)).toEqual([]);

    await page.goto(`${baseUrl}/admin/#/customers/6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c`);
    await page.getByRole('heading', { name: 'Customer not found', level: 1 }).waitFor();
    expect(await alertText(page)).toMatch(/^Could not load the customer\. Not found \(404/);

    await page.goto(`${baseUrl}/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Errors Inc', level: 1 }).waitFor();
    await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('link', { name: '← All customers' }).click();
    expect(await alertText(page)).toContain('The service could not be reached');
  });

  it('pages through older notes from the keyboard, moving focus to the first older one', async () => {
    const support = await createStaff(t, 'customer_support');
    const customer = await createCustomer(t, { name: 'Chatty Ltd' });
    for (let i = 1; i <= 23; i += 1) {
      await request(t.http)
        .post(`/api/v1/customers/${customer.id}/notes`)
        .set({ Authorization: `Bearer ${t.sign(support.id)}` })
        .send({ body: `Note number ${i}` })
        .expect(201);
    }
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    const notes = page.getByRole('region', { name: 'Internal notes' });
    const more = notes.getByRole('button', { name: 'Show older notes' });
    await more.waitFor();
    expect(await notes.getByRole('listitem').count()).toBe(20);
    expect(await notes.getByRole('listitem').first().innerText()).toContain('Note number 23');

    await more.focus();
    await page.keyboard.press('Enter');
    await notes.getByText('Note number 1', { exact: true }).waitFor();
    expect(await notes.getByRole('listitem').count()).toBe(23);
    expect(await more.count()).toBe(0);
    expect(await page.locator('li:focus').innerText()).toContain('Note number 3');
  });

  it('keeps the profile usable when the subscriptions cannot be loaded', async () => {
    const support = await createStaff(t, 'customer_support');
    const customer = await createCustomer(t, { name: 'Partial Ltd' });
    const page = await openPage();
    await page.route('**/api/v1/customers/*/subscriptions', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/problem+json',
        body: JSON.stringify({ title: 'Not found', status: 404, code: 'not_found', detail: '' }),
      }),
    );
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    const subscriptions = page.getByRole('region', { name: 'Subscriptions' });
    await subscriptions.getByText('Could not load subscriptions').waitFor();
    expect(await subscriptions.innerText()).toContain('404');
    await page.getByRole('button', { name: 'Disable', exact: true }).waitFor();

    await page.getByLabel('New note').fill('Called about the renewal.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await page
      .getByRole('region', { name: 'Internal notes' })
      .getByText('Called about the renewal.')
      .waitFor();
    expect(await page.getByRole('status').innerText()).toBe('Note added.');
  });
  it('turns the badge to Disabled without reloading when a hold scheduled a few seconds ahead starts, and back when it ends', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Tia Timer' });
    const customer = await createCustomer(t, { name: 'Later Ltd' });
    const page = await openPage();
    let navigations = 0;
    page.on('framenavigated', () => (navigations += 1));
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Later Ltd', level: 1 }).waitFor();
    const badge = page.locator('#customer-status');
    const holds = page.getByRole('region', { name: 'Holds' });
    await holds.getByText('No holds').waitFor();
    expect(await badge.innerText()).toBe('Enabled');
    // Marks this document: a reload would lose it.
    await page.evaluate('window.__sameDocument = true');
    const navigationsBefore = navigations;

    // Placed elsewhere, 4 s ahead for 5 s: the page learns of it by polling, then turns at the
    // instants.
    const startsAt = Date.now() + 4000;
    const endsAt = startsAt + 5000;
    await placeHold(support.id, customer.id, {
      reason_code: 'compliance',
      reason: 'KYC documents expired',
      starts_at: new Date(startsAt).toISOString(),
      ends_at: new Date(endsAt).toISOString(),
    });
    const row = holds.getByRole('row', { name: /Compliance/ });
    await row.getByText('Scheduled', { exact: true }).waitFor();
    // Its reason became a note, which the page shows as well.
    await page
      .getByRole('region', { name: 'Internal notes' })
      .getByText('KYC documents expired')
      .waitFor();
    expect(await page.locator('.status-line').innerText()).toMatch(/A hold starts \d{4}-/);
    expect(await badge.innerText()).toBe('Enabled');

    // A locator, not waitForFunction: the page's policy forbids evaluating strings.
    await page.locator('#customer-status', { hasText: /^Disabled$/ }).waitFor({ timeout: 15_000 });
    const delay = Date.now() - startsAt;
    console.log(`admin page: badge turned ${delay} ms after the hold's starts_at`);
    // The poll (every 3 s) would be late at worst by its period; the boundary timer is sooner.
    expect(delay).toBeGreaterThanOrEqual(0);
    await row.getByText('Active', { exact: true }).waitFor();
    await page
      .getByRole('status')
      .getByText('Later Ltd is now disabled.', { exact: true })
      .waitFor();
    expect(await page.locator('.status-line').innerText()).toMatch(/Disabled since/);
    expect(await page.getByRole('button', { name: 'Enable', exact: true }).count()).toBe(1);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(navigations).toBe(navigationsBefore);
    // The clock's transition shows in the trail, by the service itself.
    await page
      .getByRole('region', { name: 'Audit trail' })
      .getByRole('row', { name: /Disabled/ })
      .getByText('the service (automatic)')
      .waitFor();
    await page.screenshot({
      path: join(ARTIFACTS, 'admin-scheduled-hold-started.png'),
      fullPage: true,
    });

    // At its end the hold expires and the customer is enabled again, still without a reload.
    await page.locator('#customer-status', { hasText: /^Enabled$/ }).waitFor({ timeout: 15_000 });
    console.log(`admin page: badge turned back ${Date.now() - endsAt} ms after the hold's ends_at`);
    await row.getByText('Expired', { exact: true }).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    await page
      .getByRole('status')
      .getByText('Later Ltd is now enabled.', { exact: true })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Disable', exact: true }).count()).toBe(1);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    expect(navigations).toBe(navigationsBefore);
    expect(await customerRow(customer.id)).toMatchObject({ status: 'enabled' });
  });

  it('lifts one of two holds and the customer stays disabled; Enable lists both, then lifts the rest', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Lou Lifter' });
    const customer = await createCustomer(t, { name: 'Twice Held Ltd' });
    await placeHold(support.id, customer.id, {
      reason_code: 'compliance',
      reason: 'KYC review',
    });
    await placeHold(support.id, customer.id, {
      reason_code: 'non_payment',
      reason: 'Invoice INV-7 unpaid',
    });
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Twice Held Ltd', level: 1 }).waitFor();
    const badge = page.locator('#customer-status');
    const actions = page.getByRole('region', { name: 'Customer actions' });
    const enable = actions.getByRole('button', { name: 'Enable', exact: true });
    const holds = page.getByRole('region', { name: 'Holds' });
    const compliance = holds.getByRole('row', { name: /Compliance/ });
    const nonPayment = holds.getByRole('row', { name: /Non-payment/ });
    await nonPayment.getByText('Active', { exact: true }).waitFor();
    expect(await badge.innerText()).toBe('Disabled');
    expect(await compliance.innerText()).toContain('KYC review');
    expect(await compliance.innerText()).toContain('Lou Lifter (staff)');
    expect(await compliance.innerText()).toContain('Until lifted');
    // Review date: 30 days after placing, by default.
    expect(await compliance.locator('td').nth(6).innerText()).toMatch(/\d{4}-\d\d-\d\d/);

    // Enable says what it will lift: both holds. Cancel changes nothing.
    await enable.click();
    const enableDialog = page.getByRole('dialog', { name: 'Enable Twice Held Ltd?' });
    await enableDialog.waitFor();
    const liftList = enableDialog.getByRole('list', { name: /It lifts these 2 holds/ });
    expect(await liftList.getByRole('listitem').count()).toBe(2);
    expect(await liftList.innerText()).toContain('Compliance (manual)');
    expect(await liftList.innerText()).toContain('KYC review');
    expect(await liftList.innerText()).toContain('Non-payment (manual)');
    expect(await liftList.innerText()).toContain('Invoice INV-7 unpaid');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-enable-lists-holds.png') });
    await enableDialog.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#status-action:focus').waitFor();

    // Lift, from the keyboard: Escape backs out to the same button.
    const liftNonPayment = nonPayment.getByRole('button', { name: /^Lift/ });
    await liftNonPayment.focus();
    await page.keyboard.press('Enter');
    const liftDialog = page.getByRole('dialog', { name: 'Lift this hold on Twice Held Ltd?' });
    await liftDialog.waitFor();
    expect(await liftDialog.innerText()).toContain(
      'Twice Held Ltd stays disabled: another hold is active.',
    );
    await liftDialog.getByRole('button', { name: 'Cancel' }).and(page.locator(':focus')).waitFor();
    await page.keyboard.press('Escape');
    await liftDialog.waitFor({ state: 'hidden' });
    await liftNonPayment.and(page.locator(':focus')).waitFor();
    expect((await holdRows(customer.id)).map((hold) => hold.lifted)).toEqual([false, false]);

    // Then with a reason: one hold lifted, the customer still disabled.
    await page.keyboard.press('Enter');
    await liftDialog.waitFor();
    await liftDialog.getByLabel('Reason for lifting (optional)').fill('Invoice paid');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-lift-confirmation.png') });
    await liftDialog.getByRole('button', { name: 'Lift hold' }).click();
    await page
      .getByRole('status')
      .getByText(
        'The Non-payment hold is lifted. Twice Held Ltd stays disabled: another hold is active.',
      )
      .waitFor();
    await page.locator('#notice:focus').waitFor();
    await nonPayment.getByText('Lifted', { exact: true }).waitFor();
    expect(await nonPayment.innerText()).toContain('Invoice paid');
    await page.getByRole('region', { name: 'Internal notes' }).getByText('Invoice paid').waitFor();
    expect(await nonPayment.getByRole('button').count()).toBe(0);
    expect(await badge.innerText()).toBe('Disabled');
    expect(await customerRow(customer.id)).toMatchObject({ status: 'disabled' });
    expect(
      (await holdRows(customer.id)).map((hold) => [
        hold.reason_code,
        hold.lifted,
        hold.lift_reason,
      ]),
    ).toEqual([
      ['compliance', false, null],
      ['non_payment', true, 'Invoice paid'],
    ]);

    // Enable now lists the one hold left, and lifts it.
    await enable.click();
    await enableDialog.waitFor();
    const oneLeft = enableDialog.getByRole('list', { name: 'It lifts this hold:' });
    expect(await oneLeft.getByRole('listitem').count()).toBe(1);
    expect(await oneLeft.innerText()).toContain('Compliance (manual)');
    await enableDialog.getByRole('button', { name: 'Enable customer' }).click();
    await page
      .getByRole('status')
      .getByText('Twice Held Ltd is enabled.', { exact: true })
      .waitFor();
    await page.locator('#notice:focus').waitFor();
    expect(await badge.innerText()).toBe('Enabled');
    await compliance.getByText('Lifted', { exact: true }).waitFor();
    expect(await holds.getByRole('button', { name: /^Lift/ }).count()).toBe(0);
    expect(await customerRow(customer.id)).toMatchObject({ status: 'enabled' });
    expect((await holdRows(customer.id)).map((hold) => hold.lifted)).toEqual([true, true]);
  });

  it('shows Lift only to the roles that may lift the hold: manual for support, others for account managers', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Sue Support' });
    const manager = await createStaff(t, 'account_manager', { name: 'Max Manager' });
    const reader = await createStaff(t, 'user', { name: 'Ray Reader' });
    const customer = await createCustomer(t, { name: 'Owned Holds Ltd' });
    await placeHold(support.id, customer.id, { reason_code: 'dispute', reason: 'Chargeback' });
    // The dunning rules (issue 11) place overdue holds; until they exist, straight into the table.
    await t.db.query(
      `INSERT INTO holds (customer_id, source, reason_code, reason, starts_at, pause_billing,
                          placed_by_type, placed_by_id, placed_by_name)
       VALUES ($1, 'overdue', 'non_payment', 'Invoice INV-9 overdue', now(), true,
               'system', NULL, 'system')`,
      [customer.id],
    );
    const liftButtons = async (email: string) => {
      const page = await openPage();
      await signInAs(page, email, `/admin/#/customers/${customer.id}`);
      const holds = page.getByRole('region', { name: 'Holds' });
      await holds.getByRole('row', { name: /Non-payment/ }).waitFor();
      await holds.getByRole('row', { name: /Dispute/ }).waitFor();
      const rows: Record<string, number> = {};
      for (const code of ['Dispute', 'Non-payment']) {
        rows[code] = await holds
          .getByRole('row', { name: new RegExp(code) })
          .getByRole('button', { name: /^Lift/ })
          .count();
      }
      expect(await holds.getByRole('row', { name: /Non-payment/ }).innerText()).toContain(
        'Overdue invoice',
      );
      return rows;
    };
    expect(await liftButtons(reader.email)).toEqual({ Dispute: 0, 'Non-payment': 0 });
    expect(await liftButtons(support.email)).toEqual({ Dispute: 1, 'Non-payment': 0 });
    expect(await liftButtons(manager.email)).toEqual({ Dispute: 1, 'Non-payment': 1 });
  });

  it('disables with the options of the dialog: reason code, until, billing; a later start schedules the hold', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Opal Options' });
    const customer = await createCustomer(t, { name: 'Options Ltd' });
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    await page.getByRole('heading', { name: 'Options Ltd', level: 1 }).waitFor();
    const actions = page.getByRole('region', { name: 'Customer actions' });
    const dialog = page.getByRole('dialog', { name: 'Disable Options Ltd?' });
    const day = (offset: number) =>
      new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

    await actions.getByLabel('Reason (optional)').fill('Suspended for two weeks');
    await actions.getByRole('button', { name: 'Disable', exact: true }).click();
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('Inform the customer first.');
    // Ticked by default: this service sends customer emails.
    expect(await dialog.getByLabel('Notify the customer').isChecked()).toBe(true);
    await dialog.getByLabel('Reason code').selectOption('compliance');
    await dialog.getByLabel('Until').fill(day(14));
    await dialog.getByLabel('Billing').selectOption({ label: 'Keep billing running' });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-disable-options.png') });
    await dialog.getByRole('button', { name: 'Disable customer' }).click();
    await page
      .getByRole('status')
      .getByText(`Options Ltd is disabled until ${day(14)} 00:00 UTC.`, { exact: true })
      .waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Disabled');
    const [placed] = await t.db.query<
      { reason_code: string; reason: string; ends_at: Date; pause_billing: boolean }[]
    >('SELECT reason_code, reason, ends_at, pause_billing FROM holds WHERE customer_id = $1', [
      customer.id,
    ]);
    expect(placed).toEqual({
      reason_code: 'compliance',
      reason: 'Suspended for two weeks',
      ends_at: new Date(`${day(14)}T00:00:00.000Z`),
      pause_billing: false,
    });
    const row = page
      .getByRole('region', { name: 'Holds' })
      .getByRole('row', { name: /Compliance/ });
    expect(await row.innerText()).toContain(`${day(14)} 00:00 UTC`);

    // A customer disabled from tomorrow stays enabled today, with the hold scheduled.
    const later = await createCustomer(t, { name: 'Tomorrow Ltd' });
    await page.goto(`${baseUrl}/admin/#/customers/${later.id}`);
    await page.getByRole('heading', { name: 'Tomorrow Ltd', level: 1 }).waitFor();
    await actions.getByRole('button', { name: 'Disable', exact: true }).click();
    const laterDialog = page.getByRole('dialog', { name: 'Disable Tomorrow Ltd?' });
    await laterDialog.waitFor();
    // The options start empty on every profile.
    expect(await laterDialog.getByLabel('Reason code').inputValue()).toBe('');
    await laterDialog.getByLabel('Starts').fill(day(1));
    await laterDialog.getByRole('button', { name: 'Disable customer' }).click();
    await page
      .getByRole('status')
      .getByText(`A hold on Tomorrow Ltd starts ${day(1)} 00:00 UTC.`, { exact: true })
      .waitFor();
    await page.locator('#notice:focus').waitFor();
    expect(await page.locator('#customer-status').innerText()).toBe('Enabled');
    expect(await page.locator('.status-line').innerText()).toContain(
      `A hold starts ${day(1)} 00:00 UTC`,
    );
    await page
      .getByRole('region', { name: 'Holds' })
      .getByRole('row', { name: /Other/ })
      .getByText('Scheduled', { exact: true })
      .waitFor();
    expect(await customerRow(later.id)).toMatchObject({ status: 'enabled' });
    expect(await actions.getByRole('button', { name: 'Disable', exact: true }).count()).toBe(1);
  });

  it('offers "Notify the customer", ticked when emails are on: unticked, nothing is written or sent; ticked, the profile lists the email', async () => {
    const support = await createStaff(t, 'customer_support');
    const quiet = await createCustomer(t, { name: 'Quiet Ltd' });
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${quiet.id}`);
    await page.getByRole('heading', { name: 'Quiet Ltd', level: 1 }).waitFor();
    const actions = page.getByRole('region', { name: 'Customer actions' });
    const emails = page.getByRole('region', { name: 'Emails to the customer' });
    await emails.getByText('No emails to this customer.').waitFor();

    await actions.getByRole('button', { name: 'Disable', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable Quiet Ltd?' });
    await dialog.waitFor();
    const notify = dialog.getByRole('checkbox', { name: 'Notify the customer' });
    expect(await notify.isChecked()).toBe(true);
    expect(await dialog.innerText()).toContain('never your reason');
    await notify.uncheck();
    await page.screenshot({ path: join(ARTIFACTS, 'admin-disable-notify.png') });
    await dialog.getByRole('button', { name: 'Disable customer' }).click();
    await page.getByRole('status').getByText('Quiet Ltd is disabled.', { exact: true }).waitFor();
    const quietHolds = await t.db.query<{ notify_customer: boolean }[]>(
      'SELECT notify_customer FROM holds WHERE customer_id = $1',
      [quiet.id],
    );
    expect(quietHolds).toEqual([{ notify_customer: false }]);
    const notifications = (customerId: string) =>
      t.db.query<{ kind: string; state: string }[]>(
        'SELECT kind, state FROM customer_notifications WHERE customer_id = $1',
        [customerId],
      );
    expect(await notifications(quiet.id)).toEqual([]);

    // The box is ticked again on the next profile; left so, the customer is told.
    const told = await createCustomer(t, { name: 'Told Ltd' });
    await page.goto(`${baseUrl}/admin/#/customers/${told.id}`);
    await page.getByRole('heading', { name: 'Told Ltd', level: 1 }).waitFor();
    await actions.getByRole('button', { name: 'Disable', exact: true }).click();
    const toldDialog = page.getByRole('dialog', { name: 'Disable Told Ltd?' });
    await toldDialog.waitFor();
    expect(
      await toldDialog.getByRole('checkbox', { name: 'Notify the customer' }).isChecked(),
    ).toBe(true);
    await toldDialog.getByRole('button', { name: 'Disable customer' }).click();
    await page.getByRole('status').getByText('Told Ltd is disabled.', { exact: true }).waitFor();
    const row = emails.getByRole('row', { name: /Disabled/ });
    // Sent a moment after the disable; the profile follows it until it is.
    await row.getByText('Sent', { exact: true }).waitFor({ timeout: 15_000 });
    const rowText = await row.innerText();
    expect(rowText).toContain('Your account has been suspended');
    expect(rowText).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    await emails.screenshot({ path: join(ARTIFACTS, 'admin-customer-emails.png') });
    expect(await notifications(told.id)).toEqual([{ kind: 'customer_disabled', state: 'sent' }]);
    expect(smtp.to(told.email)).toHaveLength(1);
    expect(smtp.to(quiet.email)).toEqual([]);
  });

  it('filters the customer list to the reviews that are due, and shows why each is disabled', async () => {
    const support = await createStaff(t, 'customer_support');
    const tag = `review${Date.now()}`;
    const due = await createCustomer(t, { name: `${tag} due` });
    const notYet = await createCustomer(t, { name: `${tag} not yet` });
    await createCustomer(t, { name: `${tag} enabled` });
    await placeHold(support.id, due.id, { reason_code: 'security', reason: 'Leaked key' });
    await placeHold(support.id, notYet.id, { reason_code: 'dispute', reason: 'Open dispute' });
    await t.db.query(
      `UPDATE holds SET review_at = now() - interval '1 day' WHERE customer_id = $1`,
      [due.id],
    );
    const page = await openPage();
    await signInAs(page, support.email);

    await page.getByLabel('Search').fill(tag);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(`3 customers matching “${tag}”`).waitFor();
    expect(await page.getByRole('row', { name: `${tag} due` }).innerText()).toContain('Leaked key');
    expect(await page.getByRole('row', { name: `${tag} not yet` }).innerText()).toContain(
      'Open dispute',
    );

    await page.getByLabel('Review due').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(`1 customer matching “${tag}”, review due`).waitFor();
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain(`${tag} due`);
    expect(await rows.first().innerText()).toContain('Leaked key');
    expect(page.url()).toContain('review_due=true');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-customers-review-due.png') });
    // The filter survives a reload: it is in the address.
    await page.reload();
    await page.getByText(`1 customer matching “${tag}”, review due`).waitFor();
    expect(await page.getByLabel('Review due').isChecked()).toBe(true);
  });
  it('shows refusals in the alert region and changes nothing: a hold lifted meanwhile (409), an end before the start (400)', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Rob Refused' });
    const customer = await createCustomer(t, { name: 'Refusals Ltd' });
    const hold = await placeHold(support.id, customer.id, {
      reason_code: 'dispute',
      reason: 'Open dispute',
    });
    const page = await openPage();
    await signInAs(page, support.email, `/admin/#/customers/${customer.id}`);
    const holds = page.getByRole('region', { name: 'Holds' });
    const row = holds.getByRole('row', { name: /Dispute/ });
    await row.getByRole('button', { name: /^Lift/ }).click();
    const liftDialog = page.getByRole('dialog', { name: 'Lift this hold on Refusals Ltd?' });
    await liftDialog.waitFor();
    expect(await liftDialog.innerText()).toContain(
      'Refusals Ltd is enabled at once: no other hold is active.',
    );
    // Someone else lifts it while the dialog is open.
    await request(t.http)
      .post(`/api/v1/holds/${hold.id}/lift`)
      .set({ Authorization: `Bearer ${t.sign(support.id)}` })
      .send({ reason: 'Settled by phone' })
      .expect(200);
    const liftsBefore = await t.db.query<{ count: string }[]>(
      `SELECT count(*)::text AS count FROM audit_logs WHERE hold_id = $1`,
      [hold.id],
    );
    await liftDialog.getByRole('button', { name: 'Lift hold' }).click();
    expect(await alertText(page)).toMatch(/^Could not lift the hold\. .*\(409 hold_not_active\)/);
    // The table shows what happened instead, and focus is back in the holds.
    await row.getByText('Lifted', { exact: true }).waitFor();
    expect(await row.innerText()).toContain('Settled by phone');
    expect(await page.evaluate('document.activeElement.id')).toBe('holds-heading');
    expect(
      await t.db.query<{ count: string }[]>(
        `SELECT count(*)::text AS count FROM audit_logs WHERE hold_id = $1`,
        [hold.id],
      ),
    ).toEqual(liftsBefore);
    expect((await holdRows(customer.id)).map((h) => [h.lifted, h.lift_reason])).toEqual([
      [true, 'Settled by phone'],
    ]);

    // An end before the start: the service refuses it, the page says so, nothing is placed.
    await page.locator('#customer-status', { hasText: /^Enabled$/ }).waitFor();
    const day = (offset: number) =>
      new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    const disableDialog = page.getByRole('dialog', { name: 'Disable Refusals Ltd?' });
    await disableDialog.waitFor();
    await disableDialog.getByLabel('Starts').fill(day(3));
    await disableDialog.getByLabel('Until').fill(day(2));
    await disableDialog.getByRole('button', { name: 'Disable customer' }).click();
    expect(await alertText(page)).toMatch(
      /^Could not disable the customer\. .*\(400 validation_failed\)/,
    );
    await page.locator('#status-action:focus').waitFor();
    expect(await holdRows(customer.id)).toHaveLength(1);
    expect(await customerRow(customer.id)).toMatchObject({ status: 'enabled' });
    // The options are kept, to be corrected.
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    expect(await disableDialog.getByLabel('Until').inputValue()).toBe(day(2));
    await page.keyboard.press('Escape');
  });
});
