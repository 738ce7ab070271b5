import type { Actor } from '../access/actor';
import { isAllowed } from './roles.guard';
import type { RouteAccess } from './route-access';

/**
 * What a route's declaration says of an authenticated caller:
 * - `admitted`;
 * - `customer_disabled`: a customer key whose customer is disabled, on a route that does not
 *   allow it (`403 customer_disabled`);
 * - `forbidden`: the route's `@Roles` rule does not admit the caller, or the route declares no
 *   rule at all (`403 forbidden`);
 * - `customer_status_needed`: a customer key on a route that refuses disabled customers' keys,
 *   and the customer's status was not given: ask again with it.
 */
export type Admission = 'admitted' | 'customer_disabled' | 'forbidden' | 'customer_status_needed';

/**
 * THE access decision, in one place: AccessGuard refuses with it, and the limits fast lane answers
 * from memory only when it says `admitted` (anything else goes on to the guard). A disabled
 * customer's key is refused before the rule is looked at, so it learns that it is disabled
 * rather than what it may not do. `customerDisabled`: the status of a customer key's customer,
 * when known.
 */
export function admission(
  access: RouteAccess,
  actor: Actor,
  params: Record<string, string> | undefined,
  customerDisabled?: boolean,
): Admission {
  if (access.isPublic) return 'admitted';
  if (actor.type === 'api_key' && actor.customerId !== null && !access.allowDisabledCustomerKey) {
    if (customerDisabled === undefined) return 'customer_status_needed';
    if (customerDisabled) return 'customer_disabled';
  }
  if (!access.rule || !isAllowed(access.rule, actor, params ?? {})) return 'forbidden';
  return 'admitted';
}
