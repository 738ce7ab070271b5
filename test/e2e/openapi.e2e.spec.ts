import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../../src/openapi/openapi';
import { startTestApp, TestApp } from '../support/test-app';

const CHECKED_IN = join(__dirname, '..', '..', 'openapi.json');

/**
 * openapi.json is the contract clients generate code from: it must be exactly what the code
 * serves at /docs-json. `npm run openapi:write` rewrites it (this test with OPENAPI_WRITE=1).
 */
describe('openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is in step with the code', () => {
    const current = `${JSON.stringify(buildOpenApiDocument(t.app), null, 2)}\n`;
    if (process.env.OPENAPI_WRITE === '1') writeFileSync(CHECKED_IN, current);
    let checkedIn = '';
    try {
      checkedIn = readFileSync(CHECKED_IN, 'utf8');
    } catch {
      // a missing file fails below like a stale one
    }
    if (checkedIn !== current) {
      throw new Error(
        'openapi.json differs from the code: run `npm run openapi:write` and review the diff.',
      );
    }
  });

  it('documents problem details for every error answer and a security scheme for every guarded route', () => {
    const document = JSON.parse(readFileSync(CHECKED_IN, 'utf8')) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: object }>; security?: object[] }>
      >;
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400 && Number(status) < 500) {
            expect({
              [`${method} ${path} ${status}`]: Object.keys(response.content ?? {}),
            }).toEqual({
              [`${method} ${path} ${status}`]: ['application/problem+json'],
            });
          }
        }
        if (!path.startsWith('/health') && path !== '/api/v1/auth/login') {
          expect({ [`${method} ${path}`]: (operation.security ?? []).length > 0 }).toEqual({
            [`${method} ${path}`]: true,
          });
        }
      }
    }
  });
});
