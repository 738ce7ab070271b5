import { createSecretKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { isUuid } from '../common/validation';
import type { AccessTokenPayload } from './auth.service';
import type { VerifiedToken } from './verified-tokens';

/** Where the strategy finds the token; the guard finds it the same way, to key what it keeps. */
export const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Checks the bearer token's signature, algorithm and expiry, and nothing else. Passport keeps
 * strategies in one process-wide registry, so the strategy must not hold anything of one app
 * instance (two instances in one process, as in the tests, would share the last one's): the
 * AuthenticationGuard, which is per instance, turns the payload into the user.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@InjectConfig() config: AppConfig) {
    super({
      jwtFromRequest: bearerToken,
      // A KeyObject, not the string: given a string, jsonwebtoken first tries to read it as a
      // PEM public key, and the exception that throws costs more than the whole rest of a staff
      // request's authentication.
      secretOrKey: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** Who the token is for, and its time bounds (which the guard's cache of tokens checks again). */
  validate(payload: AccessTokenPayload & { exp?: number; nbf?: number }): VerifiedToken | false {
    if (!isUuid(payload?.sub)) return false;
    const ver = payload.ver ?? 0;
    if (!Number.isSafeInteger(ver) || ver < 0) return false;
    const verified: VerifiedToken = { sub: payload.sub, ver };
    if (payload.exp !== undefined) verified.exp = payload.exp;
    if (payload.nbf !== undefined) verified.nbf = payload.nbf;
    return verified;
  }
}
