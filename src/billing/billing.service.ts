import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import type { PlanInterval } from '../plans/entities/plan.entity';
import { Pause, settle } from './billable-periods';
import { BillingRunDto, InvoiceDto } from './dto/billing.dto';
import { BillingRun, BillingRunTrigger } from './entities/billing-run.entity';
import { Invoice } from './entities/invoice.entity';

const BATCH_SIZE = 100;
const DAY_MS = 86_400_000;

const NEWEST_FIRST = creationOrder<Invoice>('i');

interface DueRow {
  id: string;
  customer_id: string;
  plan_id: string;
  started_at: Date;
  current_period_start: Date;
  current_period_end: Date;
  amount: number;
  currency: string;
  interval: PlanInterval;
}

/**
 * Billing runs: every active subscription whose period has ended is invoiced and moved to its
 * next period, unless its customer's billing is paused (skipped, counted, left as it is).
 *
 * Runs may overlap (the schedule on every instance, a manual run): subscriptions are taken in
 * batches with FOR UPDATE SKIP LOCKED, so two runs share the work instead of doing it twice, and
 * the unique (subscription_id, period_start) of invoices makes a second invoice for one period
 * impossible whatever happens.
 */
@Injectable()
export class BillingService {
  private readonly logger = new Logger('BillingService');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async run(trigger: BillingRunTrigger): Promise<BillingRunDto> {
    const runs = this.txHost.tx.getRepository(BillingRun);
    const run = await runs.save(
      runs.create({
        trigger,
        startedAt: this.clock.now(),
        finishedAt: null,
        invoiced: 0,
        skipped: 0,
      }),
    );
    const skipped = await this.countPausedCustomersDue(run.startedAt);
    let invoiced = 0;
    for (;;) {
      const batch = await this.unitOfWork.run(() => this.billBatch(run));
      invoiced += batch.invoiced;
      if (batch.subscriptions < BATCH_SIZE) break;
    }
    await runs.update(run.id, { finishedAt: this.clock.now(), invoiced, skipped });
    this.logger.log(`Billing run ${run.id} (${trigger}): ${invoiced} invoiced, ${skipped} skipped`);
    return { id: run.id, invoiced, skipped };
  }

  async listInvoices(customerId: string, page: PageQueryDto): Promise<Page<InvoiceDto>> {
    await this.customers.findOrFail(customerId);
    const query = this.txHost.tx
      .getRepository(Invoice)
      .createQueryBuilder('i')
      .innerJoinAndSelect('i.plan', 'p')
      .where('i.customer_id = :customerId', { customerId });
    const now = this.clock.now();
    return keysetPage(query, NEWEST_FIRST, 'DESC', page, (i) => InvoiceDto.from(i, now));
  }

  private async countPausedCustomersDue(now: Date): Promise<number> {
    const [{ count }] = await this.txHost.tx.query<{ count: number }[]>(
      `SELECT count(DISTINCT s.customer_id)::int AS count
         FROM subscriptions s JOIN customers c ON c.id = s.customer_id
        WHERE s.status = 'active' AND s.current_period_end <= $1 AND c.billing_paused`,
      [now],
    );
    return count;
  }

  /** One batch in one transaction: its invoices and its moved periods commit together. */
  private async billBatch(run: BillingRun): Promise<{ subscriptions: number; invoiced: number }> {
    const tx = this.txHost.tx;
    const due = await tx.query<DueRow[]>(
      `SELECT s.id, s.customer_id, s.plan_id, s.started_at, s.current_period_start,
              s.current_period_end, p.amount, p.currency, p."interval"
         FROM subscriptions s
         JOIN customers c ON c.id = s.customer_id
         JOIN plans p ON p.id = s.plan_id
        WHERE s.status = 'active' AND s.current_period_end <= $1 AND NOT c.billing_paused
        ORDER BY s.current_period_end, s.id
        LIMIT ${BATCH_SIZE}
          FOR UPDATE OF s SKIP LOCKED`,
      [run.startedAt],
    );
    if (due.length === 0) return { subscriptions: 0, invoiced: 0 };

    const pauses = await this.pausesOf([...new Set(due.map((row) => row.customer_id))]);
    // Issued at the run's time, due INVOICE_TERMS_DAYS later.
    const issuedAt = run.startedAt;
    const dueAt = new Date(issuedAt.getTime() + this.config.invoiceTermsDays * DAY_MS);
    const invoices: unknown[][] = [];
    for (const row of due) {
      const { toInvoice, next } = settle(
        { start: row.current_period_start, end: row.current_period_end },
        row.interval,
        row.started_at,
        pauses.get(row.customer_id) ?? [],
        run.startedAt,
      );
      for (const period of toInvoice) {
        invoices.push([
          row.id,
          row.customer_id,
          row.plan_id,
          run.id,
          row.amount,
          row.currency,
          period.start,
          period.end,
          row.amount,
          dueAt,
          issuedAt,
        ]);
      }
      await tx.query(
        `UPDATE subscriptions
            SET current_period_start = $2, current_period_end = $3, updated_at = now()
          WHERE id = $1`,
        [row.id, next.start, next.end],
      );
    }
    return { subscriptions: due.length, invoiced: await this.insertInvoices(invoices) };
  }

  private async pausesOf(customerIds: string[]): Promise<Map<string, Pause[]>> {
    const rows = await this.txHost.tx.query<
      { customer_id: string; paused_at: Date; resumed_at: Date | null }[]
    >(
      `SELECT customer_id, paused_at, resumed_at FROM billing_pauses
        WHERE customer_id = ANY($1::uuid[])`,
      [customerIds],
    );
    const byCustomer = new Map<string, Pause[]>();
    for (const row of rows) {
      const list = byCustomer.get(row.customer_id) ?? [];
      list.push({ pausedAt: row.paused_at, resumedAt: row.resumed_at });
      byCustomer.set(row.customer_id, list);
    }
    return byCustomer;
  }

  /** Returns how many were written: a period already invoiced is left alone. */
  private async insertInvoices(invoices: unknown[][]): Promise<number> {
    if (invoices.length === 0) return 0;
    const columns = 11;
    const values = invoices
      .map(
        (_, i) =>
          `(${Array.from({ length: columns }, (__, j) => `$${i * columns + j + 1}`).join(', ')})`,
      )
      .join(', ');
    const written = await this.txHost.tx.query<{ id: string }[]>(
      `INSERT INTO invoices (subscription_id, customer_id, plan_id, billing_run_id, amount,
                             currency, period_start, period_end, amount_due, due_at, created_at)
       VALUES ${values}
       ON CONFLICT ON CONSTRAINT uq_invoices_subscription_period DO NOTHING
       RETURNING id`,
      invoices.flat(),
    );
    return written.length;
  }
}
