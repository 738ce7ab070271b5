import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthenticationGuard } from './authentication.guard';
import { RolesGuard } from './roles.guard';

/**
 * The one global guard: who is calling (AuthenticationGuard), then whether they may (RolesGuard),
 * in one pass. Nest awaits every global guard separately, and on this machine each pass costs the
 * hot path measurably (bench/RESULTS.md); with an API key found in memory this guard does not
 * create a single promise.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly authentication: AuthenticationGuard,
    private readonly roles: RolesGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const authenticated = this.authentication.canActivate(context);
    return authenticated instanceof Promise
      ? authenticated.then(() => this.roles.canActivate(context))
      : this.roles.canActivate(context);
  }
}
