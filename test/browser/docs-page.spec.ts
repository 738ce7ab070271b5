import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The Swagger UI at /docs under the service's content security policy, in Debian's Chromium
 * (as test/browser/admin-page.spec.ts runs it): it must still render every operation, with no
 * policy violation, and no other site may frame it.
 */
jest.setTimeout(120_000);

describe('the API docs, in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders every operation under the content security policy, with no violation', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      await page.addInitScript({
        content:
          "document.addEventListener('securitypolicyviolation', (event) => " +
          'console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));',
      });
      const response = await page.goto(`${baseUrl}/docs`);
      expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

      await page.locator('.opblock').first().waitFor();
      const operations = await page.locator('.opblock').count();
      const documented = Object.values(
        ((await (await fetch(`${baseUrl}/docs-json`)).json()) as { paths: object }).paths,
      ).reduce<number>((sum, methods) => sum + Object.keys(methods as object).length, 0);
      expect(operations).toBe(documented);
      // Styles applied: Swagger UI's stylesheet and its inline styles are allowed.
      expect(
        await page.evaluate("getComputedStyle(document.querySelector('.opblock')).borderStyle"),
      ).toBe('solid');
      // Opening an operation runs Swagger UI's own scripts further.
      await page.locator('.opblock-summary').first().click();
      await page.locator('.opblock-body').first().waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('cannot be framed by another page', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.setContent(`<iframe id="docs" src="${baseUrl}/docs"></iframe>`);
      const frame = await (await page.waitForSelector('#docs')).contentFrame();
      await page.waitForTimeout(1000);
      expect(await frame?.locator('#swagger-ui').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
