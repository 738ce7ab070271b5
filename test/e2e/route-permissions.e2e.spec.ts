import { API_PREFIX } from '../../src/setup-app';
import { listRoutes } from '../support/routes';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Every route with the least role (and which API keys) may call it. A change here is a
 * permission change: it must show in review. Update with `npm test -- -u` and read the diff.
 */
describe('route permissions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('declares every route public or with a role, and the set is as reviewed', () => {
    const routes = listRoutes(t.app, API_PREFIX, ['health', 'health/ready']);
    expect(routes.filter((r) => r.access.startsWith('UNDECLARED'))).toEqual([]);
    expect(Object.fromEntries(routes.map((r) => [r.route, r.access]))).toMatchSnapshot();
  });
});
