import type { Actor } from '../access/actor';
import type { AccessRule } from '../access/access.decorators';
import { isAllowed } from './roles.guard';
import { isRole, Role, roleSatisfies, ROLES } from '../access/roles';

describe('role hierarchy', () => {
  it('orders the five roles from least to most privileged', () => {
    expect(ROLES).toEqual(['user', 'customer_support', 'account_manager', 'developer', 'admin']);
  });

  it.each(
    ROLES.flatMap((role, i) =>
      ROLES.map((required, j) => [role, required, i >= j] as [Role, Role, boolean]),
    ),
  )('%s satisfies %s: %s', (role, required, expected) => {
    expect(roleSatisfies(role, required)).toBe(expected);
  });

  it('recognises only the five roles', () => {
    expect(isRole('admin')).toBe(true);
    expect(isRole('superuser')).toBe(false);
    expect(isRole(undefined)).toBe(false);
  });
});

describe('isAllowed', () => {
  const staff = (role: Role): Actor => ({ type: 'user', id: 'u', name: 'n', email: 'e', role });
  const platformKey: Actor = { type: 'api_key', id: 'k', name: 'k', customerId: null };
  const customerKey: Actor = { type: 'api_key', id: 'k', name: 'k', customerId: 'c1' };
  const rule = (role: Role, apiKeys: AccessRule['apiKeys'] = 'none'): AccessRule => ({
    role,
    apiKeys,
  });

  it('lets a staff member through when the role is high enough', () => {
    expect(isAllowed(rule('customer_support'), staff('admin'), {})).toBe(true);
    expect(isAllowed(rule('customer_support'), staff('customer_support'), {})).toBe(true);
    expect(isAllowed(rule('customer_support'), staff('user'), {})).toBe(false);
  });

  it('refuses every API key on a staff-only route', () => {
    expect(isAllowed(rule('user'), platformKey, {})).toBe(false);
    expect(isAllowed(rule('user'), customerKey, { id: 'c1' })).toBe(false);
  });

  it('lets a platform key through where platform keys are allowed', () => {
    expect(isAllowed(rule('account_manager', 'platform'), platformKey, {})).toBe(true);
  });

  it('lets a customer key reach only its own customer', () => {
    const own = rule('user', 'platform_and_own_customer');
    expect(isAllowed(own, customerKey, { id: 'c1' })).toBe(true);
    expect(isAllowed(own, customerKey, { id: 'c2' })).toBe(false);
    expect(isAllowed(rule('user', 'platform'), customerKey, { id: 'c1' })).toBe(false);
  });

  it('lets only a platform key through a route for platform keys only', () => {
    const platformOnly: AccessRule = { role: null, apiKeys: 'platform' };
    expect(isAllowed(platformOnly, platformKey, {})).toBe(true);
    for (const role of ROLES) expect(isAllowed(platformOnly, staff(role), {})).toBe(false);
    expect(isAllowed(platformOnly, customerKey, { id: 'c1' })).toBe(false);
  });
});
