import { ACCESS_ERROR_CODES } from '../access/access.errors';
import { AUDIT_ERROR_CODES } from '../audit/audit.errors';
import { AUTH_ERROR_CODES } from '../auth/auth.errors';
import { BILLING_ERROR_CODES } from '../billing/billing.errors';
import { COMMON_ERROR_CODES } from '../common/errors';
import { CUSTOMERS_ERROR_CODES } from '../customers/customers.errors';
import { HOLDS_ERROR_CODES } from '../holds/holds.errors';
import { PLANS_ERROR_CODES } from '../plans/plans.errors';

/**
 * Where each error code is declared: common's for every module, each module's own in its
 * `*.errors.ts`. The one place that sees them all; a new module's list is added here (the test
 * beside this file fails on a `*.errors.ts` list left out, a code declared twice, or a code
 * thrown or documented that no list declares).
 */
export const ERROR_CODES_BY_MODULE = {
  common: COMMON_ERROR_CODES,
  access: ACCESS_ERROR_CODES,
  auth: AUTH_ERROR_CODES,
  customers: CUSTOMERS_ERROR_CODES,
  plans: PLANS_ERROR_CODES,
  holds: HOLDS_ERROR_CODES,
  billing: BILLING_ERROR_CODES,
  audit: AUDIT_ERROR_CODES,
} as const;

/** Every machine-readable code of the HTTP contract: the OpenAPI `ErrorCode` enum. */
export const ERROR_CODES = Object.values(ERROR_CODES_BY_MODULE).flat();
export type ErrorCode = (typeof ERROR_CODES_BY_MODULE)[keyof typeof ERROR_CODES_BY_MODULE][number];
