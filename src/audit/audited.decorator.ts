import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { AuditInterceptor } from './audit.interceptor';

/**
 * The route changes something that must be audited: it runs in one transaction with the audit
 * entries of the changes its use case reports to the AuditTrail. The route's module imports
 * AuditModule.
 */
export const Audited = (): MethodDecorator & ClassDecorator =>
  applyDecorators(UseInterceptors(AuditInterceptor));
