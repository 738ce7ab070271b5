import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { chromium } from 'playwright-core';
import { buildOpenApiDocument } from '../../src/openapi/openapi';
import { createCustomer, createStaff, insertHold, STAFF_PASSWORD } from '../support/factories';
import { createPlan, createSubscription } from '../support/plans';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The admin page as staff use it: the real service on a real database, listening on a port,
 * driven through Debian's Chromium (never a downloaded browser). The page is built first, so
 * the test always runs the current sources.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

jest.setTimeout(120_000);

describe('the admin page, in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `No Chromium at ${CHROMIUM}: the browser test needs Debian's chromium package. ` +
          'Install it with `apt-get install -y chromium` (.ci/run does this), or set CHROMIUM_PATH.',
      );
    }
    execFileSync('npm', ['run', '--silent', 'build:admin'], { cwd: ROOT, stdio: 'pipe' });
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    // An uncaught error in the page is a bug even when the test's own checks passed.
    expect(pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
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
        // The status transitions (the hold entries beside them are the holds' tests' business).
        `SELECT action, actor_id, reason FROM audit_logs
          WHERE customer_id = $1 AND action LIKE 'customer.%' ORDER BY created_at`,
        [customerId],
      )
    ).map((row) => [row.action, row.actor_id, row.reason]);

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
    const firstEntry = trail.locator('tbody tr').first();
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
    await page.screenshot({ path: join(ARTIFACTS, 'admin-customers-disabled.png') });
    await row.getByRole('link').click();

    await enable.click();
    await page
      .getByRole('dialog', { name: 'Enable Acme Browser Ltd?' })
      .getByRole('button', { name: 'Enable customer' })
      .click();
    await actions.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    expect(await badge.innerText()).toBe('Enabled');
    // Newest first: customer.enabled, hold.lifted, customer.disabled, hold.placed.
    await trail.locator('tbody tr').nth(3).waitFor();
    expect(await trail.locator('tbody tr').first().innerText()).toContain('Enabled');
    expect(await trail.locator('tbody tr').nth(2).innerText()).toContain('Disabled');
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
    await t.db.query(
      "UPDATE customers SET status = 'disabled', disabled_at = now(), disabled_reason = 'Unpaid' WHERE id = $1",
      [customer.id],
    );
    // Disabled means "has an active hold" (the status columns are its projection).
    await insertHold(t.db, customer.id, { reason: 'Unpaid' });
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
    expect(await auditActions(customer.id)).toEqual([]);

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
      ['customer.enabled', support.id, 'Paid in full'],
    ]);
  });

  it('shows a read-only user the status but no Disable or Enable button, and no note form', async () => {
    const reader = await createStaff(t, 'user', { name: 'Rita Reader' });
    const customer = await createCustomer(t, { name: 'Readonly Co' });
    await t.db.query(
      "UPDATE customers SET status = 'disabled', disabled_at = now(), disabled_reason = 'Dispute' WHERE id = $1",
      [customer.id],
    );
    // Disabled means "has an active hold" (the status columns are its projection).
    await insertHold(t.db, customer.id, { reason: 'Dispute' });
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
    await t.db.query(`UPDATE staff_users SET role = 'user' WHERE id = $1`, [support.id]);
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
});
