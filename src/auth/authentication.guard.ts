import { ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { UnauthenticatedError } from '../common/errors';
import type { Actor, ApiKeyActor, StaffActor } from '../access/actor';
import { bearerToken } from './jwt.strategy';
import { StaffMember, StaffMembers } from './staff-members';
import { VerifiedToken, VerifiedTokens } from './verified-tokens';
import type { AuthenticatedRequest } from '../access/access.decorators';

/** Resolves an `X-API-Key` header to its key; provided by the API keys module. */
export interface ApiKeyAuthenticator {
  /** The key's actor, or null when the key is unknown or revoked. */
  authenticate(key: string): ApiKeyActor | null | Promise<ApiKeyActor | null>;
  /** Whether a customer key's customer is disabled (answered from a cache on the hot path). */
  isCustomerDisabled(customerId: string): boolean | Promise<boolean>;
}
export const API_KEY_AUTHENTICATOR = Symbol('API_KEY_AUTHENTICATOR');

/** Far more than the sessions of all staff at once; a token pushed out is only checked again. */
const MAX_VERIFIED_TOKENS = 4096;

/**
 * Who is calling, for every route that is not `@Public()` (AccessGuard, the one global guard,
 * asks it, then decides with `admission`). Staff send a bearer JWT (checked by the passport `jwt`
 * strategy, once per token: see VerifiedTokens); API clients send `X-API-Key`, resolved without
 * passport and, for a key in memory, without a promise: this is the hot path of the limits check.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard('jwt') {
  private readonly verifiedTokens = new VerifiedTokens(MAX_VERIFIED_TOKENS);

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

  /**
   * A token this instance verified before, still within its time bounds, skips passport and the
   * signature check; any other goes through the strategy (which explains a refusal) and, accepted,
   * is kept. The member and the token version are checked on every request either way.
   */
  private authenticateStaff(
    context: ExecutionContext,
    request: AuthenticatedRequest,
  ): StaffActor | Promise<StaffActor> {
    const token = bearerToken(request);
    const verified = token === null ? undefined : this.verifiedTokens.get(token, Date.now());
    if (verified !== undefined) return this.staffActor(verified, request);
    return (super.canActivate(context) as Promise<boolean>).then(() => {
      const accepted = request.user as unknown as VerifiedToken;
      if (token !== null) this.verifiedTokens.remember(token, accepted);
      return this.staffActor(accepted, request);
    });
  }

  private staffActor(
    token: VerifiedToken,
    request: AuthenticatedRequest,
  ): StaffActor | Promise<StaffActor> {
    // The member is looked up for every request (in memory, kept true by the change feed): a
    // deactivated member's tokens stop working at once, and a role change applies to the next
    // request, not the next login.
    const member = this.staff.activeMember(token.sub);
    return member instanceof Promise
      ? member.then((found) => this.acceptMember(token, found, request))
      : this.acceptMember(token, member, request);
  }

  private acceptMember(
    token: VerifiedToken,
    user: StaffMember | undefined,
    request: AuthenticatedRequest,
  ): StaffActor {
    if (!user) throw new UnauthenticatedError('The user of this token is unknown or inactive.');
    // Logout, a password change and a deactivation bump the version: older tokens end here.
    if (user.tokenVersion !== token.ver) {
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
