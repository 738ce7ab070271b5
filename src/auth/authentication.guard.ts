import { ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { UnauthenticatedError } from '../common/errors';
import type { Actor, ApiKeyActor, StaffActor } from '../access/actor';
import type { AccessTokenPayload } from './auth.service';
import { StaffMembers } from './staff-members';
import type { AuthenticatedRequest } from '../access/access.decorators';

/** Resolves an `X-API-Key` header to its key; provided by the API keys module. */
export interface ApiKeyAuthenticator {
  /** The key's actor, or null when the key is unknown or revoked. */
  authenticate(key: string): ApiKeyActor | null | Promise<ApiKeyActor | null>;
  /** Whether a customer key's customer is disabled (answered from a cache on the hot path). */
  isCustomerDisabled(customerId: string): boolean | Promise<boolean>;
}
export const API_KEY_AUTHENTICATOR = Symbol('API_KEY_AUTHENTICATOR');

/**
 * Who is calling, for every route that is not `@Public()` (AccessGuard, the one global guard,
 * asks it, then decides with `admission`). Staff send a bearer JWT (checked by the passport `jwt`
 * strategy); API clients send `X-API-Key`, resolved without passport and, for a key in memory,
 * without a promise: this is the hot path of the limits check.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard('jwt') {
  constructor(
    private readonly staff: StaffMembers,
    @Optional()
    @Inject(API_KEY_AUTHENTICATOR)
    private readonly apiKeys?: ApiKeyAuthenticator,
  ) {
    super();
  }

  /** The caller, or 401. */
  authenticate(context: ExecutionContext, request: AuthenticatedRequest): Actor | Promise<Actor> {
    const key = request.headers['x-api-key'];
    if (key === undefined) return this.authenticateStaff(context, request);
    if (typeof key !== 'string' || !this.apiKeys) {
      throw new UnauthenticatedError('The API key is not valid.');
    }
    const actor = this.apiKeys.authenticate(key);
    return actor instanceof Promise
      ? actor.then((found) => this.acceptKey(found))
      : this.acceptKey(actor);
  }

  /** Whether a customer key's customer is disabled now. */
  isCustomerDisabled(customerId: string): boolean | Promise<boolean> {
    return this.apiKeys!.isCustomerDisabled(customerId);
  }

  private acceptKey(actor: ApiKeyActor | null): ApiKeyActor {
    if (!actor) throw new UnauthenticatedError('The API key is not valid or was revoked.');
    return actor;
  }

  private async authenticateStaff(
    context: ExecutionContext,
    request: AuthenticatedRequest,
  ): Promise<StaffActor> {
    await super.canActivate(context);
    // The member is looked up for every request (in memory, kept true by the change feed): a
    // deactivated member's tokens stop working at once, and a role change applies to the next
    // request, not the next login.
    const payload = request.user as unknown as Required<AccessTokenPayload>;
    const user = await this.staff.activeMember(payload.sub);
    if (!user) throw new UnauthenticatedError('The user of this token is unknown or inactive.');
    // Logout, a password change and a deactivation bump the version: older tokens end here.
    if (user.tokenVersion !== payload.ver) {
      throw new UnauthenticatedError(
        'The access token has been revoked (signed out or password changed).',
      );
    }
    const actor: StaffActor = {
      type: 'user',
      id: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
    };
    request.user = actor;
    return actor;
  }

  override handleRequest<T>(error: unknown, user: T | false, info: unknown): T {
    if (error || !user) {
      const expired = (info as { name?: string } | undefined)?.name === 'TokenExpiredError';
      throw new UnauthenticatedError(
        expired ? 'The access token has expired.' : 'A valid bearer token or API key is required.',
      );
    }
    return user;
  }
}
