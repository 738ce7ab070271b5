import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { In } from 'typeorm';
import { systemOrigin } from '../access/actor';
import { InvoiceDto } from '../billing/dto/billing.dto';
import { formatInvoiceNumber, Invoice } from '../billing/entities/invoice.entity';
import { InvoicesService } from '../billing/invoices.service';
import { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import { EventOutbox } from '../events/event-outbox';
import { HoldsService } from '../holds/holds.service';
import { Metrics } from '../observability/metrics';
import { DAY_MS } from '../billing/overdue';
import { DunningRunDto } from './dto/dunning.dto';
import {
  DunningPlan,
  DunningRules,
  DunningState,
  holdReason,
  isEmptyPlan,
  liftReason,
  OpenInvoice,
  OverdueHoldState,
  planDunning,
  warnedKey,
} from './dunning-plan';

/** Customers per batch of the run's walk. */
const BATCH_SIZE = 500;
const LOWEST_UUID = '00000000-0000-0000-0000-000000000000';
/** Transactions of one run at once, at most (see `concurrency`). */
const MAX_CONCURRENCY = 4;

/** What one evaluation (or a run) did. */
export interface DunningOutcome {
  holdsPlaced: number;
  holdsLifted: number;
  warningsSent: number;
}

interface HoldRow {
  id: string;
  customer_id: string;
  starts_at: Date;
  ends_at: Date | null;
  lifted_at: Date | null;
  lifted_by_type: string | null;
  invoice_ids: string[] | null;
}

/**
 * The dunning rules at work (see dunning-plan.ts for the rules themselves): warnings at
 * DUNNING_WARN_DAYS, one `overdue` hold at DUNNING_HOLD_DAYS, lifted by the rules when no open
 * invoice is that late any more. `evaluate()` is one customer under its row lock, in the
 * caller's transaction when there is one (a payment, a void, a change of `dunning_exempt`), so
 * that the change and what the rules make of it commit together. `run()` walks every customer
 * the rules may concern, each in its own short transaction.
 */
@Injectable()
export class DunningService implements OnModuleInit {
  private readonly logger = new Logger('DunningService');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly invoices: InvoicesService,
    private readonly holds: HoldsService,
    private readonly outbox: EventOutbox,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.customers.onDunningExemptChanged((customerId) => this.evaluate(customerId));
    this.invoices.onInvoicesChanged((customerId) => this.evaluate(customerId));
  }

  private get rules(): DunningRules {
    return { warnDays: this.config.dunningWarnDays, holdDays: this.config.dunningHoldDays };
  }

  /**
   * Customers evaluated at once by a run, each in its own transaction: at most half the pool, so
   * that requests keep connections (one at a time on the embedded engine's single connection).
   */
  private get concurrency(): number {
    return Math.max(1, Math.min(MAX_CONCURRENCY, Math.floor(this.config.databasePoolSize / 2)));
  }

  /** The fewest days past due at which a rule acts: invoices less late concern nobody. */
  private get firstStepDays(): number {
    return Math.min(...this.config.dunningWarnDays, this.config.dunningHoldDays);
  }

  /** Applies the rules to one customer, under its row lock. */
  evaluate(customerId: string): Promise<DunningOutcome> {
    return this.unitOfWork.run(async () => {
      await this.customers.findOrFail(customerId, 'pessimistic_write');
      // Read after the lock: whoever held it has committed by then.
      const now = this.clock.now();
      const state = (await this.statesOf([customerId], now)).get(customerId)!;
      return this.apply(customerId, planDunning(state, now, this.rules), now);
    });
  }

  /**
   * Every customer with an open invoice at least the first step late, or with an active
   * `overdue` hold, in batches by id (keyset). A batch is read without locks and planned; only
   * customers for whom something is due are evaluated, each in its own transaction under its row
   * lock (which plans again: another instance may have been first). Running it twice changes
   * nothing the second time. The scheduler passes `renew` (after each batch: false stops the
   * run) and `stopped` (checked before each customer: the application is shutting down).
   */
  async run(
    options: { renew?: () => Promise<boolean>; stopped?: () => boolean } = {},
  ): Promise<DunningRunDto> {
    const timer = this.metrics.dunningRunDuration.startTimer();
    let result = 'failed';
    try {
      const totals = await this.walk(options);
      result = options.stopped?.() ? 'stopped' : 'completed';
      return totals;
    } finally {
      timer();
      this.metrics.dunningRuns.inc({ result });
    }
  }

  private async walk(options: {
    renew?: () => Promise<boolean>;
    stopped?: () => boolean;
  }): Promise<DunningRunDto> {
    const stopped = options.stopped ?? (() => false);
    const started = Date.now();
    const now = this.clock.now();
    const totals: DunningRunDto = {
      evaluated: 0,
      holds_placed: 0,
      holds_lifted: 0,
      warnings_sent: 0,
    };
    let failed = 0;
    let after = LOWEST_UUID;
    for (;;) {
      const ids = await this.candidates(after, now);
      if (ids.length === 0) break;
      const states = await this.statesOf(ids, now);
      totals.evaluated += ids.length;
      const due = ids.filter((id) => {
        const state = states.get(id);
        return state !== undefined && !isEmptyPlan(planDunning(state, now, this.rules));
      });
      await eachConcurrently(due, this.concurrency, async (id) => {
        if (stopped()) return;
        try {
          const outcome = await this.evaluate(id);
          totals.holds_placed += outcome.holdsPlaced;
          totals.holds_lifted += outcome.holdsLifted;
          totals.warnings_sent += outcome.warningsSent;
        } catch (error) {
          // One customer must not stop the others: the next run tries it again.
          failed += 1;
          this.logger.error(`Dunning customer ${id} failed`, (error as Error).stack);
        }
      });
      after = ids[ids.length - 1];
      if (stopped() || (options.renew && !(await options.renew()))) break;
      if (ids.length < BATCH_SIZE) break;
    }
    this.logger.log(
      `Dunning run: ${totals.evaluated} evaluated, ${totals.holds_placed} holds placed, ` +
        `${totals.holds_lifted} lifted, ${totals.warnings_sent} warnings` +
        (failed > 0 ? `, ${failed} failed` : '') +
        ` in ${Date.now() - started} ms`,
    );
    return totals;
  }

  /**
   * The next customer ids after `after`: the union of two walks along their indexes, each cut at
   * the batch size (any id among the union's first BATCH_SIZE is among its own walk's first).
   */
  private async candidates(after: string, now: Date): Promise<string[]> {
    const lateBy = new Date(now.getTime() - this.firstStepDays * DAY_MS).toISOString();
    const rows = await this.txHost.tx.query<{ id: string }[]>(
      `SELECT id FROM (
         (SELECT DISTINCT customer_id AS id FROM invoices
           WHERE status = 'open' AND due_at <= $2 AND customer_id > $1
           ORDER BY customer_id LIMIT $4)
         UNION
         (SELECT DISTINCT customer_id FROM holds
           WHERE source = 'overdue' AND lifted_at IS NULL AND customer_id > $1
             AND starts_at <= $3 AND (ends_at IS NULL OR ends_at > $3)
           ORDER BY customer_id LIMIT $4)
       ) c ORDER BY id LIMIT $4`,
      [after, lateBy, now.toISOString(), BATCH_SIZE],
    );
    return rows.map((row) => row.id);
  }

  /** What the rules read of each customer, in four queries for the lot. */
  private async statesOf(customerIds: string[], now: Date): Promise<Map<string, DunningState>> {
    const tx = this.txHost.tx;
    const lateBy = new Date(now.getTime() - this.firstStepDays * DAY_MS).toISOString();
    const [customers, invoices, holds] = [
      await tx.query<{ id: string; dunning_exempt: boolean }[]>(
        'SELECT id, dunning_exempt FROM customers WHERE id = ANY($1::uuid[])',
        [customerIds],
      ),
      await tx.query<{ id: string; customer_id: string; number: string; due_at: Date }[]>(
        `SELECT id, customer_id, "number"::text AS "number", due_at FROM invoices
          WHERE status = 'open' AND customer_id = ANY($1::uuid[]) AND due_at <= $2`,
        [customerIds, lateBy],
      ),
      // Active holds of the rules, and those a person lifted (what they covered is released).
      await tx.query<HoldRow[]>(
        `SELECT h.id, h.customer_id, h.starts_at, h.ends_at, h.lifted_at, h.lifted_by_type,
                array_remove(array_agg(hi.invoice_id), NULL) AS invoice_ids
           FROM holds h LEFT JOIN hold_invoices hi ON hi.hold_id = h.id
          WHERE h.customer_id = ANY($1::uuid[]) AND h.source = 'overdue'
            AND (h.lifted_at IS NULL OR h.lifted_by_type <> 'system')
          GROUP BY h.id`,
        [customerIds],
      ),
    ];
    const warned = new Set<string>();
    if (invoices.length > 0) {
      const rows = await tx.query<{ invoice_id: string; step: number }[]>(
        'SELECT invoice_id, step FROM dunning_warnings WHERE invoice_id = ANY($1::uuid[])',
        [invoices.map((i) => i.id)],
      );
      for (const row of rows) warned.add(warnedKey(row.invoice_id, row.step));
    }

    interface Building extends DunningState {
      openInvoices: OpenInvoice[];
      activeHolds: OverdueHoldState[];
      released: Set<string>;
    }
    const states = new Map<string, Building>();
    for (const c of customers) {
      states.set(c.id, {
        exempt: c.dunning_exempt,
        openInvoices: [],
        warned,
        activeHolds: [],
        released: new Set(),
      });
    }
    for (const i of invoices) {
      states.get(i.customer_id)?.openInvoices.push({
        id: i.id,
        number: formatInvoiceNumber(i.number),
        dueAt: i.due_at,
      });
    }
    const at = now.getTime();
    for (const h of holds) {
      const state = states.get(h.customer_id);
      if (!state) continue;
      const invoiceIds = h.invoice_ids ?? [];
      if (h.lifted_at !== null) {
        for (const id of invoiceIds) state.released.add(id);
      } else if (h.starts_at.getTime() <= at && (h.ends_at === null || h.ends_at.getTime() > at)) {
        state.activeHolds.push({ id: h.id, invoiceIds });
      }
    }
    return states;
  }

  private async apply(customerId: string, plan: DunningPlan, now: Date): Promise<DunningOutcome> {
    const outcome: DunningOutcome = { holdsPlaced: 0, holdsLifted: 0, warningsSent: 0 };
    if (isEmptyPlan(plan)) return outcome;
    const tx = this.txHost.tx;
    const { holdDays } = this.rules;

    if (plan.lift) {
      const lifted = await this.holds.liftHoldsOfSource(
        customerId,
        'overdue',
        liftReason(plan.lift.cause, holdDays),
        systemOrigin(),
      );
      outcome.holdsLifted = lifted.length;
    }
    if (plan.place) {
      const hold = await this.holds.placeRuleHold(
        customerId,
        {
          source: 'overdue',
          reasonCode: 'non_payment',
          reason: holdReason(plan.place, now, holdDays),
        },
        systemOrigin(),
      );
      if (hold) {
        await this.cover(
          hold.id,
          plan.place.map((i) => i.id),
        );
        outcome.holdsPlaced = 1;
      }
    }
    if (plan.cover) await this.cover(plan.cover.holdId, plan.cover.invoiceIds);

    if (plan.warnings.length > 0) {
      // The primary key (invoice_id, step) makes each step once per invoice, whatever else runs.
      const inserted = await tx.query<{ invoice_id: string; step: number }[]>(
        `INSERT INTO dunning_warnings (invoice_id, step, created_at)
         SELECT w.invoice_id, w.step, $3 FROM unnest($1::uuid[], $2::int[]) AS w(invoice_id, step)
         ON CONFLICT ON CONSTRAINT pk_dunning_warnings DO NOTHING
         RETURNING invoice_id, step`,
        [
          plan.warnings.map((w) => w.invoiceId),
          plan.warnings.map((w) => w.step),
          now.toISOString(),
        ],
      );
      const written = new Set(inserted.map((row) => warnedKey(row.invoice_id, row.step)));
      const toSend = plan.warnings.filter(
        (w) => w.send && written.has(warnedKey(w.invoiceId, w.step)),
      );
      if (toSend.length > 0) {
        const [customer] = await this.customers.toDtos([
          await this.customers.findOrFail(customerId),
        ]);
        const invoices = await tx.getRepository(Invoice).find({
          where: { id: In(toSend.map((w) => w.invoiceId)) },
          relations: { plan: true },
        });
        const byId = new Map(invoices.map((i) => [i.id, i]));
        const recorded = await this.outbox.record(
          toSend.map((w) => ({
            type: 'invoice.overdue' as const,
            customerId,
            data: {
              customer,
              invoice: InvoiceDto.from(byId.get(w.invoiceId)!, now),
              days_overdue: w.daysOverdue,
              step: w.step,
            },
            notifyCustomer: true,
          })),
        );
        for (const [index, warning] of toSend.entries()) {
          await tx.query(
            'UPDATE dunning_warnings SET event_id = $3 WHERE invoice_id = $1 AND step = $2',
            [warning.invoiceId, warning.step, recorded[index].id],
          );
        }
        outcome.warningsSent = toSend.length;
      }
    }
    return outcome;
  }

  private async cover(holdId: string, invoiceIds: string[]): Promise<void> {
    await this.txHost.tx.query(
      `INSERT INTO hold_invoices (hold_id, invoice_id)
       SELECT $1, unnest($2::uuid[])
       ON CONFLICT ON CONSTRAINT pk_hold_invoices DO NOTHING`,
      [holdId, invoiceIds],
    );
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
