import { ApiKey } from './api-keys/entities/api-key.entity';
import { BillingPause } from './billing/entities/billing-pause.entity';
import { BillingRun } from './billing/entities/billing-run.entity';
import { Invoice } from './billing/entities/invoice.entity';
import { AuditLog } from './audit/entities/audit-log.entity';
import { AuditChainHead } from './audit/entities/audit-chain-head.entity';
import { AuditCheckpoint } from './audit/entities/audit-checkpoint.entity';
import { StaffUser } from './auth/entities/staff-user.entity';
import { Customer } from './customers/entities/customer.entity';
import { Hold } from './customers/entities/hold.entity';
import { Feature } from './plans/entities/feature.entity';
import { PlanFeature } from './plans/entities/plan-feature.entity';
import { Plan } from './plans/entities/plan.entity';
import { Subscription } from './subscriptions/entities/subscription.entity';
import { Note } from './notes/entities/note.entity';
import { OutboxEventRow } from './events/entities/event.entity';
import { WebhookEndpoint } from './webhooks/entities/webhook-endpoint.entity';
import { WebhookDelivery } from './webhooks/entities/webhook-delivery.entity';
import { WebhookAttempt } from './webhooks/entities/webhook-attempt.entity';
import { CustomerNotification } from './notifications/entities/customer-notification.entity';
import { InvoicePayment } from './billing/entities/invoice-payment.entity';
import { DunningWarning } from './dunning/entities/dunning-warning.entity';
import { HoldInvoice } from './dunning/entities/hold-invoice.entity';
import { JobLease } from './dunning/entities/job-lease.entity';

/** Every entity of the service. The migration check compares exactly these with the schema. */
export const entities = [
  StaffUser,
  Customer,
  Hold,
  AuditLog,
  AuditChainHead,
  AuditCheckpoint,
  Note,
  ApiKey,
  Feature,
  Plan,
  PlanFeature,
  Subscription,
  BillingRun,
  Invoice,
  BillingPause,
  OutboxEventRow,
  WebhookEndpoint,
  WebhookDelivery,
  WebhookAttempt,
  CustomerNotification,
  InvoicePayment,
  DunningWarning,
  HoldInvoice,
  JobLease,
];
