import type { Role } from './roles';

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
