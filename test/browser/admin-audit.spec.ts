import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium } from '../support/chromium';
import { createCustomer, createStaff, STAFF_PASSWORD } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/**
 * The admin page's audit log (issue 13), in Debian's Chromium against the real service: filters
 * by action, actor, customer and days, an export that the outside script verifies, and for admins
 * a "Verify" that finds an entry edited behind the service's back.
 */
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'verify-audit-export.mjs');
const run = promisify(execFile);

jest.setTimeout(120_000);

/**
 * The Verify test edits an entry behind the service's back and needs no checkpoint signed before
 * it: a chain of its own. On the embedded engine every file shares one database, where the edit
 * would break the chain for every later file: it runs on a server only.
 */
const itOwnChain = onEmbeddedDatabase() ? it.skip : it;

describe('the admin page’s audit log, in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    execFileSync('npm', ['run', '--silent', 'build:admin'], { cwd: ROOT, stdio: 'pipe' });
    t = await startTestApp({
      AUDIT_SIGNING_KEY: Buffer.alloc(32, 21).toString('base64'),
      AUDIT_CHECKPOINT_CRON: 'off',
    });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    expect(pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(role: 'customer_support' | 'account_manager' | 'admin') {
    const staff = await createStaff(t, role, { name: `Audit ${role}` });
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      acceptDownloads: true,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${baseUrl}/admin/`);
    await page.getByLabel('Email').fill(staff.email);
    await page.getByLabel('Password').fill(STAFF_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return { page, staff };
  }

  const actionsShown = (page: Page) =>
    page
      .locator('table.audit tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')));

  /**
   * The table's actions once `settled` holds for them (at most 5 s): after a new filter the page
   * keeps showing the previous table until the new one has been read, so the rows read at once
   * may still be the old ones. The caller's assertions then say what was shown.
   */
  async function actionsShownOnce(
    page: Page,
    settled: (actions: (string | null)[]) => boolean,
  ): Promise<(string | null)[]> {
    const deadline = Date.now() + 5000;
    let actions = await actionsShown(page);
    while (!settled(actions) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      actions = await actionsShown(page);
    }
    return actions;
  }

  it('is offered to account managers and above, not to customer support', async () => {
    const { page } = await signedIn('customer_support');
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    expect(await page.getByRole('link', { name: 'Audit log' }).isHidden()).toBe(true);
    await page.goto(`${baseUrl}/admin/#/audit`);
    await page
      .getByText(
        'The audit log needs the role account manager or higher; you are customer support.',
      )
      .waitFor();
    expect(await page.locator('table.audit').count()).toBe(0);
  });

  it('lists every entry newest first and filters by kind of action, customer, actor and days', async () => {
    const support = await createStaff(t, 'customer_support', { name: 'Sam Support' });
    const customer = await createCustomer(t, { name: 'Audited Ltd' });
    const header = { Authorization: `Bearer ${t.sign(support.id)}` };
    await request(t.http)
      .post(`/api/v1/customers/${customer.id}/disable`)
      .set(header)
      .send({ reason: 'Chargeback' })
      .expect(200);

    const { page, staff } = await signedIn('account_manager');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    const all = await actionsShown(page);
    // Newest first: this manager's own sign-in is the latest entry.
    expect(all[0]).toBe('auth.login_succeeded');
    expect(all).toEqual(expect.arrayContaining(['customer.disabled', 'hold.placed']));
    // No Verify for an account manager.
    expect(await page.getByRole('button', { name: 'Verify' }).count()).toBe(0);

    await page.getByLabel('Action').selectOption('customer.');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    await page.waitForURL((url) => url.hash.includes('action=customer.'));
    await page.locator('table.audit').waitFor();
    const statusOnly = await actionsShownOnce(page, (actions) =>
      actions.every((a) => a?.startsWith('customer.')),
    );
    expect(statusOnly.length).toBeGreaterThan(0);
    expect(statusOnly.every((a) => a?.startsWith('customer.'))).toBe(true);

    await page.getByLabel('Action').selectOption('');
    await page.getByLabel('Customer id').fill(customer.id);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((url) => url.hash.includes(customer.id));
    await page.locator('table.audit').waitFor();
    expect(await actionsShownOnce(page, (actions) => actions.length === 2)).toEqual([
      'customer.disabled',
      'hold.placed',
    ]);
    const row = page.locator('table.audit tbody tr').first();
    expect(await row.innerText()).toContain('Chargeback');
    expect(await row.innerText()).toContain('Sam Support (staff)');
    expect(await row.innerText()).toContain('status: enabled → disabled');

    await page.getByLabel('Customer id').fill('');
    await page.getByLabel('Actor id').fill(staff.id);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((url) => url.hash.includes(staff.id));
    await page.locator('table.audit').waitFor();
    expect(
      await actionsShownOnce(page, (actions) => actions.every((a) => a === 'auth.login_succeeded')),
    ).toEqual(['auth.login_succeeded']);

    // Days in the past hold nothing of this run.
    await page.getByLabel('Actor id').fill('');
    await page.getByLabel('From (UTC day)').fill('2020-01-01');
    await page.getByLabel('To (UTC day, included)').fill('2020-01-31');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No entries match.').waitFor();

    // A malformed id is said at once, not sent.
    await page.getByLabel('Actor id').fill('not-an-id');
    await page.getByRole('button', { name: 'Filter' }).click();
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: /\S/ }).waitFor();
    expect(await alert.innerText()).toContain('The actor id is not an id');
  });

  it('exports NDJSON through its link, a file the outside script verifies', async () => {
    const { page } = await signedIn('account_manager');
    await page.goto(`${baseUrl}/admin/#/audit`);
    const link = page.getByRole('link', { name: 'Export NDJSON' });
    expect(await link.getAttribute('href')).toBe('/api/v1/audit-logs/export?format=ndjson');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-log_start_now\.ndjson$/);
    const file = await download.path();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect((JSON.parse(lines[0]) as { seq: number }).seq).toBe(1);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ action: 'audit.exported' });
    const checked = await run(process.execPath, [SCRIPT, file]);
    expect(checked.stdout).toContain(`OK: ${lines.length} entries`);
    await page.getByText(/^Exported audit-log_start_now\.ndjson\.$/).waitFor();
  });

  itOwnChain(
    'lets an admin verify the chain, and shows where an entry was edited behind its back',
    async () => {
      const { page } = await signedIn('admin');
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
      const outcome = page.locator('#audit-verify-outcome');
      await page.getByRole('button', { name: 'Verify' }).click();
      await outcome.filter({ hasText: /^Verified: \d+ entries recompute and link/ }).waitFor();
      expect(await outcome.innerText()).toContain('no signed checkpoint yet');

      await t.asOwner(`DO $$ BEGIN
      ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_delete;
      UPDATE audit_logs SET actor_name = 'Somebody else' WHERE seq = 3;
      ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_delete;
    END $$`);
      await page.getByRole('button', { name: 'Verify' }).click();
      await outcome.filter({ hasText: /^Broken at seq 3 \(hash_mismatch\)/ }).waitFor();
      expect(await outcome.innerText()).toContain('2 entries verified before it');
    },
  );
});
