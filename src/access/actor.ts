import type { Role } from './roles';

/**
 * Who can act, as recorded beside a change: a staff user, an API key, the service itself, or an
 * anonymous caller (a failed sign-in). The one list behind the actor-type check constraints, the
 * types below and the DTOs.
 */
export const ACTOR_TYPES = ['user', 'api_key', 'system', 'anonymous'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
/** Who can change a row (a hold, a payment): an anonymous caller never does. */
export const ACTING_TYPES = ['user', 'api_key', 'system'] as const satisfies readonly ActorType[];
export type ActingType = (typeof ACTING_TYPES)[number];

/** A signed-in staff member. */
export interface StaffActor {
  type: 'user';
  id: string;
  name: string;
  email: string;
  role: Role;
}

/** An API client: a platform key (customerId null) or a key bound to one customer. */
export interface ApiKeyActor {
  type: 'api_key';
  id: string;
  name: string;
  customerId: string | null;
}

/** Whoever makes a request; what the audit log records as `actor`. */
export type Actor = StaffActor | ApiKeyActor;

/** The service itself: the boundary scheduler, the dunning rules. It has no id. */
export interface SystemActor {
  type: 'system';
  id: null;
  name: 'system';
}

export const SYSTEM_ACTOR: SystemActor = Object.freeze({
  type: 'system',
  id: null,
  name: 'system',
});

/** Whoever changes something, as the audit log records it. */
export type AnyActor = Actor | SystemActor;

/**
 * Who made a change and from where: HTTP supplies the request's (see `@RequestOrigin()`), the
 * scheduler and the rules `systemOrigin()`. Use cases take it as a plain argument.
 */
export interface Origin {
  actor: AnyActor;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export function systemOrigin(): Origin {
  return { actor: SYSTEM_ACTOR, requestId: null, ip: null, userAgent: null };
}
