import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { defer, lastValueFrom, Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/access.decorators';
import { UnitOfWork } from '../database/unit-of-work';
import { AuditService, RequestOrigin } from './audit.service';
import { AuditTrail } from './audit-trail';

const MAX_USER_AGENT = 500;

/**
 * Runs an audited route in one transaction: the handler makes its change and reports it to the
 * AuditTrail, then the entries are written before the commit. A failure of either rolls back
 * both. Guards run before interceptors, so a refused request never gets here.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly trail: AuditTrail,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    return defer(() =>
      this.unitOfWork.run(async () => {
        this.trail.open();
        const result: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
        await this.audit.write(this.trail.take(), originOf(request));
        return result;
      }),
    );
  }
}

function originOf(request: AuthenticatedRequest): RequestOrigin {
  if (!request.user) throw new Error('@Audited() used on a route without authentication');
  const userAgent = request.headers['user-agent'];
  return {
    actor: request.user,
    requestId: request.id ?? null,
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
  };
}
