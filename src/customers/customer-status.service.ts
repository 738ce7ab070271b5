import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { CustomerChanges } from '../changes/customer-changes';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { CustomersService } from './customers.service';
import { CustomerDto } from './dto/customer.dto';
import type { DisableCustomerDto, EnableCustomerDto } from './dto/customer-status.dto';
import { Customer } from './entities/customer.entity';

/**
 * Disables and enables customers. Runs inside the transaction of an `@Audited()` route: the
 * customer's row is locked first, so concurrent toggles queue up and each sees the status the
 * previous one left; a request for the status the customer already has changes and records
 * nothing.
 */
@Injectable()
export class CustomerStatusService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly customers: CustomersService,
    private readonly changes: CustomerChanges,
    private readonly trail: AuditTrail,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async disableCustomer(id: string, input: DisableCustomerDto): Promise<CustomerDto> {
    this.trail.assertOpen();
    const customer = await this.customers.findOrFail(id, 'pessimistic_write');
    if (customer.status === 'disabled') return CustomerDto.from(customer);

    const reason = reasonOf(input);
    customer.status = 'disabled';
    customer.disabledAt = new Date();
    customer.disabledReason = reason;
    customer.billingPaused = input.pause_billing ?? this.config.billingPauseOnDisable;
    return this.saveChange(customer, 'customer.disabled', 'enabled', reason);
  }

  async enableCustomer(id: string, input: EnableCustomerDto): Promise<CustomerDto> {
    this.trail.assertOpen();
    const customer = await this.customers.findOrFail(id, 'pessimistic_write');
    if (customer.status === 'enabled') return CustomerDto.from(customer);

    customer.status = 'enabled';
    customer.disabledAt = null;
    customer.disabledReason = null;
    customer.billingPaused = false;
    return this.saveChange(customer, 'customer.enabled', 'disabled', reasonOf(input));
  }

  private async saveChange(
    customer: Customer,
    action: 'customer.disabled' | 'customer.enabled',
    before: 'enabled' | 'disabled',
    reason: string | null,
  ): Promise<CustomerDto> {
    const saved = await this.txHost.tx.getRepository(Customer).save(customer);
    await this.changes.changed(customer.id);
    this.trail.record({
      action,
      customerId: customer.id,
      reason,
      before: { status: before },
      after: { status: saved.status },
    });
    return CustomerDto.from(saved);
  }
}

/** The trimmed reason; empty or absent is no reason. */
function reasonOf(input: EnableCustomerDto): string | null {
  return input.reason ? input.reason : null;
}
