import { createSecretKey } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { isUuid } from '../common/validation';
import type { AccessTokenPayload } from './auth.service';

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
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, not the string: given a string, jsonwebtoken first tries to read it as a
      // PEM public key, and the exception that throws costs more than the whole rest of a staff
      // request's authentication.
      secretOrKey: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  validate(payload: AccessTokenPayload): Required<AccessTokenPayload> | false {
    if (!isUuid(payload?.sub)) return false;
    const ver = payload.ver ?? 0;
    return Number.isSafeInteger(ver) && ver >= 0 ? { sub: payload.sub, ver } : false;
  }
}
