/**
 * @deprecated Actors live in access/actor (audit and every module use them, and auth sits above
 * audit). Kept only for auth/authentication.guard.ts and api-keys/api-key-authenticator.ts, which
 * another change rewrites; remove it when they import from '../access/actor'.
 */
export type { ApiKeyActor, StaffActor } from '../access/actor';
