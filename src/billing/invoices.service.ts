import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditWriter } from '../audit/audit-writer';
import type { Origin } from '../access/actor';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import { InvoiceNotOpenError, PaymentExceedsAmountDueError } from './billing.errors';
import { creationOrder, keysetPage, Page } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import { EventOutbox } from '../events/event-outbox';
import { Plan } from '../plans/entities/plan.entity';
import {
  InvoiceDto,
  InvoicePaymentDto,
  ListInvoicesQueryDto,
  RecordPaymentDto,
  VoidInvoiceDto,
} from './dto/billing.dto';
import { InvoicePayment } from './entities/invoice-payment.entity';
import { formatInvoiceNumber, Invoice } from './entities/invoice.entity';

const NEWEST_FIRST = creationOrder<Invoice>('i');

/** Told, in the payment's or void's own transaction, that a customer's invoices changed. */
export type InvoicesChangedListener = (customerId: string) => Promise<unknown>;

/**
 * Invoices across customers, their payments and voids. A payment or a void locks the customer's
 * row first (the order every use case that may change its holds follows), then the invoice, and
 * tells its listeners in the same transaction: the dunning rules register one, so that the
 * payment and the lift of the hold it settles commit together, or neither does. (Billing does
 * not know the rules: they depend on it, not it on them.)
 */
@Injectable()
export class InvoicesService {
  private readonly listeners: InvoicesChangedListener[] = [];

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly outbox: EventOutbox,
    private readonly audit: AuditWriter,
    private readonly clock: Clock,
  ) {}

  /** Called by the dunning rules' module at init. */
  onInvoicesChanged(listener: InvoicesChangedListener): void {
    this.listeners.push(listener);
  }

  private async invoicesChanged(customerId: string): Promise<void> {
    for (const listener of this.listeners) await listener(customerId);
  }

  private get invoices() {
    return this.txHost.tx.getRepository(Invoice);
  }

  list(query: ListInvoicesQueryDto): Promise<Page<InvoiceDto>> {
    const now = this.clock.now();
    const qb = this.invoices.createQueryBuilder('i').innerJoinAndSelect('i.plan', 'p');
    if (query.status) qb.andWhere('i.status = :status', { status: query.status });
    if (query.customer_id) {
      qb.andWhere('i.customer_id = :customerId', { customerId: query.customer_id });
    }
    const overdue = `(i.status = 'open' AND i.due_at < :now)`;
    if (query.overdue === true) qb.andWhere(overdue, { now: now.toISOString() });
    if (query.overdue === false) qb.andWhere(`NOT ${overdue}`, { now: now.toISOString() });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', query, (i) => InvoiceDto.from(i, now));
  }

  async recordPayment(
    invoiceId: string,
    input: RecordPaymentDto,
    origin: Origin,
  ): Promise<InvoicePaymentDto> {
    const { customerId } = await this.findOrFail(invoiceId);
    return this.unitOfWork.run(async () => {
      const invoice = await this.lock(customerId, invoiceId);
      const now = this.clock.now();
      if (invoice.status !== 'open') throw this.notOpen(invoice);
      const remaining = invoice.amountDue - invoice.amountPaid;
      if (input.amount > remaining) {
        throw new PaymentExceedsAmountDueError(
          formatInvoiceNumber(invoice.number),
          remaining,
          input.amount,
        );
      }
      const payments = this.txHost.tx.getRepository(InvoicePayment);
      const payment = await payments.save(
        payments.create({
          invoiceId,
          amount: input.amount,
          reference: input.reference ?? null,
          recordedByType: origin.actor.type,
          recordedById: origin.actor.id,
          recordedByName: origin.actor.name,
          createdAt: now,
        }),
      );
      invoice.amountPaid += input.amount;
      const paid = invoice.amountPaid === invoice.amountDue;
      if (paid) {
        invoice.status = 'paid';
        invoice.paidAt = now;
      }
      await this.invoices.save(invoice);
      if (paid) {
        await this.audit.append(
          {
            action: 'invoice.paid',
            customerId,
            target: { type: 'invoice', id: invoice.id },
            reason: input.reference ?? null,
            before: { status: 'open' },
            after: { status: 'paid' },
          },
          origin,
        );
      }
      await this.invoicesChanged(customerId);
      const dto = InvoiceDto.from(invoice, now);
      if (paid) {
        const [customer] = await this.customers.toDtos([
          await this.customers.findOrFail(customerId),
        ]);
        await this.outbox.record([
          { type: 'invoice.paid', customerId, data: { customer, invoice: dto } },
        ]);
      }
      return InvoicePaymentDto.from(payment, dto);
    });
  }

  async void(invoiceId: string, input: VoidInvoiceDto, origin: Origin): Promise<InvoiceDto> {
    const { customerId } = await this.findOrFail(invoiceId);
    return this.unitOfWork.run(async () => {
      const invoice = await this.lock(customerId, invoiceId);
      const now = this.clock.now();
      if (invoice.status !== 'open') throw this.notOpen(invoice);
      invoice.status = 'void';
      invoice.voidedAt = now;
      invoice.voidReason = input.reason;
      invoice.voidedByType = origin.actor.type;
      invoice.voidedById = origin.actor.id;
      invoice.voidedByName = origin.actor.name;
      await this.invoices.save(invoice);
      await this.audit.append(
        {
          action: 'invoice.voided',
          customerId,
          target: { type: 'invoice', id: invoice.id },
          reason: input.reason,
          before: { status: 'open' },
          after: { status: 'void' },
        },
        origin,
      );
      await this.invoicesChanged(customerId);
      return InvoiceDto.from(invoice, now);
    });
  }

  private async findOrFail(id: string): Promise<Invoice> {
    const invoice = await this.invoices.findOneBy({ id });
    if (!invoice) throw new NotFoundError('Invoice', id);
    return invoice;
  }

  /** The customer's row, then the invoice's, with its plan (for the answer). */
  private async lock(customerId: string, invoiceId: string): Promise<Invoice> {
    await this.customers.findOrFail(customerId, 'pessimistic_write');
    const invoice = await this.invoices.findOneOrFail({
      where: { id: invoiceId },
      lock: { mode: 'pessimistic_write' },
    });
    invoice.plan = await this.txHost.tx.getRepository(Plan).findOneByOrFail({ id: invoice.planId });
    return invoice;
  }

  private notOpen(invoice: Invoice): InvoiceNotOpenError {
    return new InvoiceNotOpenError(
      formatInvoiceNumber(invoice.number),
      invoice.status === 'void' ? 'void' : 'paid',
    );
  }
}
