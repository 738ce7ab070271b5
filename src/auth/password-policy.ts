/**
 * @deprecated The password policy lives in common/password-policy (config validates
 * ADMIN_PASSWORD with it, and config sits below auth). Kept only for auth/users.service.ts, which
 * another change rewrites; remove it when that file imports from '../common/password-policy'.
 */
export { assertStrongPassword } from '../common/password-policy';
