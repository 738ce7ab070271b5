/**
 * @deprecated The classification of PostgreSQL errors lives in common/postgres-errors (common sits
 * below database). Kept only for auth/users.service.ts, which another change rewrites; remove it
 * when that file imports from '../common/postgres-errors'.
 */
export { isUniqueViolation } from '../common/postgres-errors';
