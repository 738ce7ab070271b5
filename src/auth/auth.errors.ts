import { ConflictError, DomainError } from '../common/errors';

/** The error codes of sign-in and staff accounts. */
export const AUTH_ERROR_CODES = ['invalid_credentials', 'user_exists', 'last_admin'] as const;
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

export class InvalidCredentialsError extends DomainError<AuthErrorCode> {
  constructor(detail = 'The email or password is wrong.') {
    super('invalid_credentials', 401, 'Invalid credentials', detail);
  }
}

export class UserExistsError extends ConflictError<AuthErrorCode> {
  constructor(email: string) {
    super('user_exists', `A user with email ${email} already exists.`);
  }
}

export class LastAdminError extends ConflictError<AuthErrorCode> {
  constructor() {
    super('last_admin', 'The last active admin cannot be demoted or deactivated.');
  }
}
