import type { Actor } from '../access/actor';
import { admission } from './admission';
import type { RouteAccess } from './route-access';

const staff = (role: 'user' | 'developer'): Actor => ({
  type: 'user',
  id: 'u',
  name: 'n',
  email: 'e',
  role,
});
const platformKey: Actor = { type: 'api_key', id: 'k', name: 'k', customerId: null };
const customerKey: Actor = { type: 'api_key', id: 'k', name: 'k', customerId: 'c1' };

const route = (overrides: Partial<RouteAccess> = {}): RouteAccess => ({
  isPublic: false,
  rule: { role: 'developer', apiKeys: 'platform_and_own_customer' },
  allowDisabledCustomerKey: false,
  ...overrides,
});

describe('admission (the access decision the guard and the fast lane share)', () => {
  it('admits anyone on a public route', () => {
    expect(admission(route({ isPublic: true, rule: undefined }), customerKey, {})).toBe('admitted');
  });

  it('refuses everyone on a route that declares no rule', () => {
    expect(admission(route({ rule: undefined }), staff('developer'), {})).toBe('forbidden');
    expect(admission(route({ rule: undefined }), platformKey, {})).toBe('forbidden');
  });

  it('follows the rule for staff and platform keys', () => {
    expect(admission(route(), staff('developer'), {})).toBe('admitted');
    expect(admission(route(), staff('user'), {})).toBe('forbidden');
    expect(admission(route(), platformKey, {})).toBe('admitted');
    const staffOnly = route({ rule: { role: 'user', apiKeys: 'none' } });
    expect(admission(staffOnly, platformKey, {})).toBe('forbidden');
  });

  it('asks for a customer key’s status first, and refuses a disabled one before the rule', () => {
    const other = { id: 'c2' };
    expect(admission(route(), customerKey, other)).toBe('customer_status_needed');
    expect(admission(route(), customerKey, other, true)).toBe('customer_disabled');
    expect(admission(route(), customerKey, other, false)).toBe('forbidden');
    expect(admission(route(), customerKey, { id: 'c1' }, false)).toBe('admitted');
  });

  it('does not ask on a route that allows a disabled customer’s key (its limits)', () => {
    const limits = route({ allowDisabledCustomerKey: true });
    expect(admission(limits, customerKey, { id: 'c1' })).toBe('admitted');
    expect(admission(limits, customerKey, { id: 'c2' })).toBe('forbidden');
  });
});
