import type { Actor } from '../access/actor';
import type { AccessRule } from '../access/access.decorators';
import { ROLES, roleSatisfies } from '../access/roles';

/**
 * Whether the route's `@Roles()` rule admits the caller (`admission` asks, after authentication).
 * A route with neither `@Roles()` nor `@Public()` has no rule and is refused to everyone, so
 * forgetting a declaration closes a route instead of opening it.
 */
export function isAllowed(rule: AccessRule, actor: Actor, params: Record<string, string>): boolean {
  if (actor.type === 'user') return rule.role !== null && roleSatisfies(actor.role, rule.role);
  if (actor.customerId === null) return rule.apiKeys !== 'none';
  return rule.apiKeys === 'platform_and_own_customer' && params?.id === actor.customerId;
}

/**
 * What a refused caller is told: the least role, or the kind of API key, that the route admits,
 * so that they (or the admin page showing the answer) know what to ask for. Only the route's own
 * rule and the caller's own role are named: nothing the caller could not read in the API document.
 */
export function refusalDetail(rule: AccessRule, actor: Actor): string {
  if (rule.role === null) {
    return actor.type === 'user'
      ? `This needs a platform API key: no staff role may call it; you are ${actor.role}.`
      : 'This needs a platform API key; a customer’s API key cannot call it.';
  }
  const staff =
    rule.role === ROLES[ROLES.length - 1]
      ? `the role ${rule.role}`
      : `the role ${rule.role} or higher`;
  if (actor.type === 'user') return `This needs ${staff}; you are ${actor.role}.`;
  switch (rule.apiKeys) {
    case 'none':
      return `This needs a staff sign-in with ${staff}; API keys cannot call it.`;
    case 'platform':
      return (
        `This needs a platform API key or a staff sign-in with ${staff}; ` +
        'a customer’s API key cannot call it.'
      );
    case 'platform_and_own_customer':
      return (
        'A customer’s API key may call this for its own customer only; for any other this needs ' +
        `a platform API key or a staff sign-in with ${staff}.`
      );
  }
}
