/**
 * Staff roles, least to most privileged. Each role has every permission of the roles before it.
 */
export const ROLES = ['user', 'customer_support', 'account_manager', 'developer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = Object.fromEntries(ROLES.map((role, i) => [role, i])) as Record<
  Role,
  number
>;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` is `required` or above it in the hierarchy. */
export function roleSatisfies(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}
