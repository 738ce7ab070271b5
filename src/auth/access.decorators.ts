/**
 * @deprecated The access decorators live in access/access.decorators (audit's controller uses
 * them, and auth sits above audit). Kept only for auth/authentication.guard.ts and
 * limits/limits.controller.ts, which another change rewrites; remove it when they import from
 * '../access/access.decorators'.
 */
export { AllowDisabledCustomerKey, Roles } from '../access/access.decorators';
export type { AuthenticatedRequest } from '../access/access.decorators';
