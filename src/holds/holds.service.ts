import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AUDIT_INSERT_PARAMETERS,
  AuditBatch,
  auditInsertSql,
  AuditWriter,
} from '../audit/audit-writer';
import type { Actor, Origin } from '../access/actor';
import { roleSatisfies } from '../access/roles';
import { CommittedHolds, CustomerChanges } from '../changes/customer-changes';
import { Clock } from '../common/clock';
import { FieldError, ForbiddenError, NotFoundError, ValidationFailedError } from '../common/errors';
import { KeysetColumn, keysetPage, Page, PageQueryDto } from '../common/pagination';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { accessFrom } from '../customers/access/customer-access-reader';
import { HoldTimes, holdStateAt } from '../customers/access/customer-access';
import { LimitsStore } from '../limits/limits-store';
import { HoldNotActiveError } from './holds.errors';
import { CustomersService } from '../customers/customers.service';
import { CustomerDto } from '../customers/dto/customer.dto';
import { Customer } from '../customers/entities/customer.entity';
import { Hold, holdFromRow, HoldSource, HoldState } from '../customers/entities/hold.entity';
import { hydrate } from '../database/hydrate';
import {
  backendPidOf,
  runInTransaction,
  sendInTransaction,
  Statement,
} from '../database/statement';
import { UnitOfWork } from '../database/unit-of-work';
import { NotesService } from '../notes/notes.service';
import { EventOutbox, EventsWithin, namedByText, NewEvent } from '../events/event-outbox';
import { OperationsLog } from '../observability/operations-log';
import { CustomerProjection, PendingEvent } from './customer-projection';
import type { DisableCustomerDto, EnableCustomerDto } from './dto/customer-status.dto';
import {
  HoldDto,
  ListCustomerHoldsQueryDto,
  ListHoldsQueryDto,
  LiftHoldDto,
  PlaceHoldDto,
  ReviewHoldDto,
} from './dto/hold.dto';

/** How far in the past a hold may start: a form filled in a minute ago still means "now". */
const STARTS_AT_SLACK_MS = 60_000;
const DAY_MS = 24 * 3600 * 1000;

const NEWEST_FIRST: KeysetColumn<Hold>[] = [
  { expression: 'h.placed_at', cast: 'timestamptz', value: (h) => h.placedAt.toISOString() },
  { expression: 'h.id', cast: 'uuid', value: (h) => h.id },
];

/** lock_customer's row: the customer as locked and its holds in play, as JSON. */
interface LockedRow {
  customer: Record<string, unknown>;
  holds: Record<string, unknown>[];
  /**
   * The transaction's start as every column the use cases stamp with CURRENT_TIMESTAMP stores it
   * (timestamptz(3) rounds): read with the lock, so that a saved customer's updated_at, and the
   * events that show it, are known before the writes' statement, which then returns nothing.
   */
  tx_started_at: Date;
}

/** A hold to place, checked. */
interface NewHold {
  source: Hold['source'];
  reasonCode: string;
  reason: string | null;
  /** Null: when the customer's row is locked (the use case's now). */
  startsAt: Date | null;
  endsAt: Date | null;
  pauseBilling: boolean;
  notifyCustomer: boolean;
  /** Null: placed_at + HOLD_REVIEW_DAYS. */
  reviewAt: Date | null;
}

/** A hold a rule places (the dunning rules: source `overdue`). */
export interface RuleHold {
  source: Exclude<HoldSource, 'manual'>;
  reasonCode: string;
  reason: string;
  /** Default BILLING_PAUSE_ON_DISABLE. */
  pauseBilling?: boolean;
  /** Default true. */
  notifyCustomer?: boolean;
}

/** A locked customer with its holds, caught up to now. */
interface Locked {
  customer: Customer;
  /** The projection as it is stored (projectionKey): written again only when it differs. */
  stored: string;
  holds: Hold[];
  now: Date;
  /** The transaction's start as the writes stamp it (lock_customer's tx_started_at). */
  txStartedAt: Date;
  /** Something was changed: the projection is saved and the change announced. */
  dirty: boolean;
  /** The events of the changes, published with the saved customer. */
  events: PendingEvent[];
  /** The audit entries of the changes, written together when the use case saves. */
  audit: AuditBatch;
  /** Holds placed and holds lifted, written when the use case saves. */
  placed: Hold[];
  lifted: Hold[];
  /** The reasons, as notes linked to their audit entries: written after the entries. */
  notes: { reason: string; auditLogId: string; author: Actor }[];
}

/** Whether one of `holds` is a manual hold active at `now`: a disable then places none. */
function hasActiveManualHold(holds: readonly HoldTimes[], now: Date): boolean {
  return holds.some((h) => h.source === 'manual' && holdStateAt(h, now) === 'active');
}

/** The holds an enable lifts: those active or scheduled at `now`, whatever their source. */
function pendingHolds<H extends HoldTimes>(holds: readonly H[], now: Date): H[] {
  return holds.filter((h) => {
    const state = holdStateAt(h, now);
    return state === 'active' || state === 'scheduled';
  });
}

/** The stored projection's columns, as one comparable value. */
function projectionKey(customer: Customer): string {
  return [
    customer.status,
    customer.disabledAt?.getTime(),
    customer.disabledReason,
    customer.billingPaused,
    customer.nextBoundaryAt?.getTime(),
  ].join('|');
}

// The use cases' own statements, straight through `pg` on the transaction's connection: a
// status change runs on the request path, and the ORM's query building, change detection
// (a SELECT before each save) and hydration cost more than the statements themselves.
//
// The lock, and the read of the holds in play after it, in one round trip: the database function
// lock_customer (migration 1795710000000-LockCustomerFunction) locks the row, then reads the holds
// in a statement of its own, which sees what the lock's previous holder committed. It also sets
// plan_cache_mode for the rest of the transaction (SET LOCAL): PostgreSQL keeps a prepared
// statement's generic plan only while its estimated cost is below the custom plans' average, and
// the writes' statement below, whose custom plans fold its empty parts away, would be planned
// again at nearly every execution (0.6 ms of the server's CPU each time, against a fraction of
// that to run it). Its generic plan is the same work: each part is an unnest or a primary-key
// update.
const LOCK_CUSTOMER: Statement = {
  name: 'holds_lock_customer',
  text: 'SELECT customer, holds, tx_started_at FROM lock_customer($1::uuid, $2::timestamptz)',
  // It locks and reads: it may go with the transaction's START.
  writesNothing: true,
};
/**
 * A use case's writes in one statement, each part empty when it has nothing to write: the holds
 * it placed ($1-$14, a column each), the holds it lifted ($15-$20), the projection as the ORM
 * saves a changed customer (version and updated_at move with it; $21-$27, $27 whether it
 * changed), the announcement of the change ($28-$30, $30 whether anything changed), its audit
 * entries (from $31, auditInsertSql) and its events with the outbox's sinks' work (after them,
 * EventOutbox.within). One round trip for all of it: on this path each statement costs the
 * service more than what it writes. Nothing is returned but the outbox's counts: the times it
 * stamps are the transaction's start, known since the lock (lock_customer's tx_started_at).
 */
function saveWritesSql(events: EventsWithin): string {
  return `WITH placed AS (
      INSERT INTO holds
        (id, customer_id, source, reason_code, reason, starts_at, ends_at, pause_billing,
         notify_customer, placed_by_type, placed_by_id, placed_by_name, placed_at, review_at)
      SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                           $6::timestamptz[], $7::timestamptz[], $8::boolean[], $9::boolean[],
                           $10::text[], $11::uuid[], $12::text[], $13::timestamptz[],
                           $14::timestamptz[])
    ), lifted AS (
      UPDATE holds h
         SET lifted_at = l.at, lifted_by_type = l.by_type, lifted_by_id = l.by_id,
             lifted_by_name = l.by_name, lift_reason = l.reason, updated_at = CURRENT_TIMESTAMP
        FROM unnest($15::uuid[], $16::timestamptz[], $17::text[], $18::uuid[], $19::text[],
                    $20::text[]) AS l(id, at, by_type, by_id, by_name, reason)
       WHERE h.id = l.id
    ), saved AS (
      UPDATE customers
         SET status = $22, disabled_at = $23, disabled_reason = $24, billing_paused = $25,
             next_boundary_at = $26, version = version + 1, updated_at = CURRENT_TIMESTAMP
       WHERE id = $21 AND $27::boolean
    ), audited AS (
      ${auditInsertSql(SAVE_AUDIT_FIRST)}
    ), ${events.ctes}
    SELECT CASE WHEN $30::boolean THEN pg_notify($28, $29) END AS announced, ${events.counts}`;
}
const SAVE_AUDIT_FIRST = 31;
const SAVE_EVENTS_FIRST = SAVE_AUDIT_FIRST + AUDIT_INSERT_PARAMETERS;

@Injectable()
export class HoldsService {
  /** The writes' statement, made again if the outbox's sinks change (its events' part). */
  private saveWrites: { ctes: string; statement: Statement } | undefined;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly projection: CustomerProjection,
    private readonly audit: AuditWriter,
    private readonly notes: NotesService,
    private readonly changes: CustomerChanges,
    private readonly outbox: EventOutbox,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    private readonly log: OperationsLog,
    /** Its memory of a customer's holds chooses a status change's path (answeredUnchanged). */
    private readonly limits: LimitsStore,
  ) {}

  private get holds() {
    return this.txHost.tx.getRepository(Hold);
  }

  place(customerId: string, input: PlaceHoldDto, origin: Origin): Promise<HoldDto> {
    const now = this.clock.now();
    const hold = this.checkNewHold(input, 'manual', now);
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(customerId, hold.startsAt);
      const placed = this.addHold(locked, hold, origin);
      await this.save(locked);
      return HoldDto.from(placed, locked.now);
    });
  }

  /** A manual hold from now, unless the customer already has an active manual hold. */
  async disable(
    customerId: string,
    input: DisableCustomerDto,
    origin: Origin,
  ): Promise<CustomerDto> {
    const now = this.clock.now();
    const hold = this.checkNewHold(
      {
        reason_code: input.reason_code ?? 'other',
        reason: input.reason,
        ends_at: input.ends_at,
        pause_billing: input.pause_billing,
        notify_customer: input.notify_customer,
      },
      'manual',
      now,
    );
    const unchanged = await this.answeredUnchanged(customerId, hasActiveManualHold);
    if (unchanged !== undefined) return unchanged;
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(customerId);
      if (!hasActiveManualHold(locked.holds, locked.now)) this.addHold(locked, hold, origin);
      await this.save(locked);
      return this.customerDto(locked);
    });
  }

  /** Lifts every active and scheduled hold, whatever its source. */
  async enable(customerId: string, input: EnableCustomerDto, origin: Origin): Promise<CustomerDto> {
    const reason = input.reason ? input.reason : null;
    const unchanged = await this.answeredUnchanged(
      customerId,
      (holds, now) => pendingHolds(holds, now).length === 0,
    );
    if (unchanged !== undefined) return unchanged;
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(customerId);
      const pending = pendingHolds(locked.holds, locked.now);
      if (pending.length > 0) {
        const entries = this.markLifted(locked, pending, reason, origin);
        const transition = this.projection.projectAt(
          locked.customer,
          locked.holds,
          locked.now,
          origin,
          pending[0],
          reason,
          locked.events,
          locked.audit,
        );
        this.addNote(locked, origin, reason, transition ?? entries[0]);
      }
      await this.save(locked);
      return this.customerDto(locked);
    });
  }

  /**
   * The customer as it is, when a status change would change nothing: a disable of a customer
   * that already has an active manual hold, an enable of one with no active or scheduled hold
   * (`unchanged`, of its holds in play at now). Read in one statement with no lock and no
   * transaction, where the locked path takes three round trips and the customer's row lock; a
   * platform that repeats its disables (a billing system's retries) does not queue behind the
   * customer's lock, or the audit chain's, for nothing.
   *
   * The answer is the locked path's at the instant the statement read: the committed holds then,
   * at now, and nothing to write (or 404, when there was no such customer then). Undefined (the
   * use case then locks and decides again) when the change would change something, when a
   * boundary of the holds has come (the locked path writes its transition first), and inside a
   * caller's transaction, whose own writes only its connection sees.
   *
   * The read is left out when this instance's memory of the customer's holds (the limits
   * store's) says the change would change something: the use case then locks at once, one round
   * trip sooner. Memory only chooses the path; under the lock the use case decides again, so a
   * change another instance made and this one has not heard yet costs a round trip, never a
   * wrong answer.
   */
  private async answeredUnchanged(
    customerId: string,
    unchanged: (holds: readonly HoldTimes[], now: Date) => boolean,
  ): Promise<CustomerDto | undefined> {
    if (this.txHost.isTransactionActive()) return undefined;
    const now = this.clock.now();
    const remembered = this.limits.holdsInPlay(customerId);
    if (remembered !== undefined && !unchanged(remembered, now)) return undefined;
    const { customer, holds } = await this.customers.readWithHolds(customerId, now);
    if (customer.nextBoundaryAt !== null && customer.nextBoundaryAt <= now) return undefined;
    if (!unchanged(holds, now)) return undefined;
    return CustomerDto.from(customer, accessFrom(holds, now));
  }

  async lift(holdId: string, input: LiftHoldDto, origin: Origin): Promise<HoldDto> {
    const reason = input.reason ? input.reason : null;
    const found = await this.findOrFail(holdId);
    this.assertMayLift(found, origin);
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(found.customerId);
      const hold = await this.lockedHold(locked, holdId);
      const state = holdStateAt(hold, locked.now);
      if (state === 'lifted' || state === 'expired') {
        throw new HoldNotActiveError(holdId, state);
      }
      const [entry] = this.markLifted(locked, [hold], reason, origin);
      this.projection.projectAt(
        locked.customer,
        locked.holds,
        locked.now,
        origin,
        hold,
        reason,
        locked.events,
        locked.audit,
      );
      this.addNote(locked, origin, reason, entry);
      await this.save(locked);
      return HoldDto.from(hold, locked.now);
    });
  }

  /**
   * A rule's hold from now, by `origin` (the `system` actor), unless the customer already has an
   * active hold of that source: checked under the customer's row lock, so that two instances
   * evaluating one customer at once place one hold. Runs in the caller's transaction if there is
   * one. Returns the hold placed, or null when one was there already.
   */
  placeRuleHold(customerId: string, input: RuleHold, origin: Origin): Promise<Hold | null> {
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(customerId);
      const existing = locked.holds.some(
        (h) => h.source === input.source && holdStateAt(h, locked.now) === 'active',
      );
      const placed = existing
        ? null
        : this.addHold(
            locked,
            {
              source: input.source,
              reasonCode: input.reasonCode,
              reason: input.reason,
              startsAt: null,
              endsAt: null,
              pauseBilling: input.pauseBilling ?? this.config.billingPauseOnDisable,
              notifyCustomer: input.notifyCustomer ?? true,
              reviewAt: null,
            },
            origin,
          );
      await this.save(locked);
      return placed;
    });
  }

  /**
   * Lifts every active and scheduled hold of `source` (never another source's: a manual hold
   * stays), by `origin`, under the customer's row lock; runs in the caller's transaction if there
   * is one. Returns the holds lifted: none when another instance lifted them first.
   */
  liftHoldsOfSource(
    customerId: string,
    source: Exclude<HoldSource, 'manual'>,
    reason: string | null,
    origin: Origin,
  ): Promise<Hold[]> {
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(customerId);
      const pending = locked.holds.filter((h) => {
        const state = holdStateAt(h, locked.now);
        return h.source === source && (state === 'active' || state === 'scheduled');
      });
      if (pending.length > 0) {
        this.markLifted(locked, pending, reason, origin);
        this.projection.projectAt(
          locked.customer,
          locked.holds,
          locked.now,
          origin,
          pending[0],
          reason,
          locked.events,
          locked.audit,
        );
      }
      await this.save(locked);
      return pending;
    });
  }

  /** Sets the next review date of an active or scheduled hold. */
  async review(holdId: string, input: ReviewHoldDto, origin: Origin): Promise<HoldDto> {
    const now = this.clock.now();
    const reviewAt = new Date(input.review_at);
    if (reviewAt <= now) {
      throw new ValidationFailedError([{ field: 'review_at', message: 'must be in the future' }]);
    }
    const found = await this.findOrFail(holdId);
    return this.unitOfWork.run(async () => {
      const locked = await this.lock(found.customerId);
      const hold = await this.lockedHold(locked, holdId);
      const state = holdStateAt(hold, locked.now);
      if (state === 'lifted' || state === 'expired') {
        throw new HoldNotActiveError(holdId, state);
      }
      hold.reviewAt = reviewAt;
      await this.holds.save(hold);
      locked.dirty = true;
      const note = input.note ?? null;
      const entry = locked.audit.add(
        {
          action: 'hold.reviewed',
          customerId: hold.customerId,
          holdId: hold.id,
          reason: note,
          before: { state },
          after: { state },
          effectiveAt: locked.now,
        },
        origin,
      );
      this.addNote(locked, origin, note, entry);
      await this.save(locked);
      return HoldDto.from(hold, locked.now);
    });
  }

  /**
   * The boundary scheduler's work: every customer whose next boundary has come, locked with SKIP
   * LOCKED (another instance, or a request, has the others) and caught up, each transition written
   * by `system` at its instant. The projection compare under the lock makes it exactly once across
   * instances. Returns how many were due.
   */
  async settleDue(limit = 100): Promise<number> {
    // Outside a transaction first: an idle poll costs one indexed query, not three statements.
    const [{ due: any }] = await this.txHost.tx.query<{ due: boolean }[]>(
      'SELECT EXISTS (SELECT 1 FROM customers WHERE next_boundary_at <= $1) AS due',
      [this.clock.now().toISOString()],
    );
    if (!any) return 0;
    return this.unitOfWork.run(async () => {
      const now = this.clock.now();
      const due = await this.txHost.tx.query<{ id: string }[]>(
        `SELECT id FROM customers
          WHERE next_boundary_at <= $1
          ORDER BY next_boundary_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [now.toISOString(), limit],
      );
      // Each row is locked already: lock_customer reads it and its holds at once, caught up to
      // the batch's instant.
      for (const { id } of due) await this.save(await this.lock(id, null, now));
      return due.length;
    });
  }

  async listForCustomer(
    customerId: string,
    query: ListCustomerHoldsQueryDto,
  ): Promise<Page<HoldDto>> {
    await this.customers.findOrFail(customerId);
    return this.list({ ...query, customer_id: customerId });
  }

  list(query: ListHoldsQueryDto & PageQueryDto & { customer_id?: string }): Promise<Page<HoldDto>> {
    const now = this.clock.now();
    const at = now.toISOString();
    const qb = this.holds.createQueryBuilder('h');
    if (query.customer_id)
      qb.andWhere('h.customer_id = :customerId', { customerId: query.customer_id });
    if (query.source) qb.andWhere('h.source = :source', { source: query.source });
    if (query.reason_code) qb.andWhere('h.reason_code = :code', { code: query.reason_code });
    if (query.state) qb.andWhere(STATE_SQL[query.state], { now: at });
    if (query.review_due) qb.andWhere(`${STATE_SQL.active} AND h.review_at <= :now`, { now: at });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', query, (hold) => HoldDto.from(hold, now));
  }

  private async findOrFail(id: string): Promise<Hold> {
    const hold = await this.holds.findOneBy({ id });
    if (!hold) throw new NotFoundError('Hold', id);
    return hold;
  }

  /**
   * Anyone who may call the route lifts a manual hold; a hold another source placed (the dunning
   * rules) needs an account manager, so that support cannot undo a rule by accident.
   */
  private assertMayLift(hold: Hold, origin: Origin): void {
    const actor = origin.actor;
    if (hold.source === 'manual' || actor.type !== 'user') return;
    if (!roleSatisfies(actor.role, 'account_manager')) {
      throw new ForbiddenError(
        `Lifting a hold of source ${hold.source} needs the role account_manager or higher; you are ${actor.role}.`,
      );
    }
  }

  private checkNewHold(
    input: Omit<PlaceHoldDto, 'reason_code'> & { reason_code: string },
    source: Hold['source'],
    now: Date,
  ): NewHold {
    const errors: FieldError[] = [];
    if (!this.config.holdReasonCodes.includes(input.reason_code)) {
      errors.push({
        field: 'reason_code',
        message: `must be one of ${this.config.holdReasonCodes.join(', ')}`,
      });
    }
    const startsAt = input.starts_at ? new Date(input.starts_at) : now;
    if (startsAt.getTime() < now.getTime() - STARTS_AT_SLACK_MS) {
      errors.push({ field: 'starts_at', message: 'must not lie more than 60 s in the past' });
    }
    const endsAt = input.ends_at ? new Date(input.ends_at) : null;
    if (endsAt !== null && (endsAt <= startsAt || endsAt <= now)) {
      errors.push({ field: 'ends_at', message: 'must be after starts_at and in the future' });
    }
    const reviewAt = input.review_at ? new Date(input.review_at) : null;
    if (reviewAt !== null && reviewAt <= now) {
      errors.push({ field: 'review_at', message: 'must be in the future' });
    }
    if (errors.length > 0) throw new ValidationFailedError(errors);
    return {
      source,
      reasonCode: input.reason_code,
      reason: input.reason ? input.reason : null,
      startsAt: input.starts_at ? startsAt : null,
      endsAt,
      pauseBilling: input.pause_billing ?? this.config.billingPauseOnDisable,
      notifyCustomer: input.notify_customer ?? true,
      reviewAt,
    };
  }

  /**
   * Locks the customer's row and reads the holds that can matter from the earliest instant the use
   * case looks at (lookFrom), in one round trip (lock_customer), and catches its projection up to
   * now (`at` when given: the boundary scheduler's batch instant). `startsAt`: the start of a hold
   * the use case places, which may lie before now (the 60 s slack, and the wait for the lock).
   *
   * The earliest instant the use case evaluates the access rule at (lookFrom): now, the start of a
   * hold it places, and the boundaries the catch-up walks, from the stored next boundary if it has
   * come (lock_customer lowers the instant given to it). Holds that stopped before it, and are not
   * part of a stretch reaching it, are never read.
   */
  private async lock(customerId: string, startsAt: Date | null = null, at?: Date): Promise<Locked> {
    const tx = this.txHost.tx;
    // Now before the lock: an instant earlier than the one after it only reads more of the holds
    // in play (those from an instant include those from any later one), never fewer.
    const before = at ?? this.clock.now();
    const lookFrom = startsAt !== null && startsAt < before ? startsAt : before;
    const { rows } = await runInTransaction<LockedRow>(tx, LOCK_CUSTOMER, [
      customerId,
      lookFrom.toISOString(),
    ]);
    if (rows.length === 0) throw new NotFoundError('Customer', customerId);
    const row = rows[0];
    const customer = hydrate(tx.connection, Customer, row.customer);
    // Now is read after the lock: whoever held it before has committed by then.
    const now = at ?? this.clock.now();
    return this.caughtUp(customer, row.holds.map(holdFromRow), now, row.tx_started_at);
  }

  /**
   * The hold `holdId` of a locked customer, for a use case on that hold: from the holds read
   * under the lock, or, for one that stopped before them (lifted or expired), read again under
   * the lock so that its state is the committed one.
   */
  private async lockedHold(locked: Locked, holdId: string): Promise<Hold> {
    return locked.holds.find((h) => h.id === holdId) ?? (await this.findOrFail(holdId));
  }

  private caughtUp(customer: Customer, holds: Hold[], now: Date, txStartedAt: Date): Locked {
    const locked: Locked = {
      customer,
      stored: projectionKey(customer),
      holds,
      now,
      txStartedAt,
      dirty: false,
      events: [],
      audit: this.audit.batch(),
      placed: [],
      lifted: [],
      notes: [],
    };
    locked.dirty = this.projection.catchUp(customer, holds, now, locked.events, locked.audit);
    return locked;
  }

  /** Places a hold (written when the use case saves) with its entry, note and transition. */
  private addHold(locked: Locked, input: NewHold, origin: Origin): Hold {
    const { customer, now } = locked;
    // Checked again at the lock's now: a wait for the lock may have carried it past the end.
    const start = input.startsAt ?? now;
    if (input.endsAt !== null && (input.endsAt <= start || input.endsAt <= now)) {
      throw new ValidationFailedError([
        { field: 'ends_at', message: 'must be after starts_at and in the future' },
      ]);
    }
    const hold = Object.assign(new Hold(), {
      id: randomUUID(),
      customerId: customer.id,
      source: input.source,
      reasonCode: input.reasonCode,
      reason: input.reason,
      startsAt: input.startsAt ?? now,
      endsAt: input.endsAt,
      pauseBilling: input.pauseBilling,
      notifyCustomer: input.notifyCustomer,
      placedByType: origin.actor.type,
      placedById: origin.actor.id,
      placedByName: origin.actor.name,
      placedAt: now,
      liftedByType: null,
      liftedById: null,
      liftedByName: null,
      liftedAt: null,
      liftReason: null,
      reviewAt: input.reviewAt ?? new Date(now.getTime() + this.config.holdReviewDays * DAY_MS),
    });
    locked.placed.push(hold);
    locked.holds.push(hold);
    locked.dirty = true;
    const entry = locked.audit.add(
      {
        action: 'hold.placed',
        customerId: customer.id,
        holdId: hold.id,
        reason: hold.reason,
        before: { state: null },
        after: { state: holdStateAt(hold, now) },
        effectiveAt: now,
      },
      origin,
    );
    locked.events.push({ type: 'hold.placed', hold });
    this.addNote(locked, origin, hold.reason, entry);
    this.projection.projectAt(
      customer,
      locked.holds,
      now,
      origin,
      hold,
      hold.reason,
      locked.events,
      locked.audit,
    );
    return hold;
  }

  /**
   * Stamps the lift of `holds` (written when the use case saves) and adds a `hold.lifted` entry
   * for each, in their order; returns the entries' ids.
   */
  private markLifted(
    locked: Locked,
    holds: Hold[],
    reason: string | null,
    origin: Origin,
  ): string[] {
    locked.dirty = true;
    return holds.map((hold) => {
      const before: HoldState = holdStateAt(hold, locked.now);
      hold.liftedAt = locked.now;
      hold.liftedByType = origin.actor.type;
      hold.liftedById = origin.actor.id;
      hold.liftedByName = origin.actor.name;
      hold.liftReason = reason;
      locked.lifted.push(hold);
      locked.events.push({ type: 'hold.lifted', hold });
      return locked.audit.add(
        {
          action: 'hold.lifted',
          customerId: hold.customerId,
          holdId: hold.id,
          reason,
          before: { state: before },
          after: { state: 'lifted' },
          effectiveAt: locked.now,
        },
        origin,
      );
    });
  }

  /** The reason of a change, as an internal note by its actor, linked to its audit entry. */
  private addNote(locked: Locked, origin: Origin, reason: string | null, auditLogId: string): void {
    if (reason === null || origin.actor.type === 'system') return;
    locked.notes.push({ reason, auditLogId, author: origin.actor });
  }

  /**
   * Saves the holds, the projection, the audit entries and the events with the customer as
   * saved, and tells every cache, when anything changed: one statement (saveWritesSql), then
   * the notes (which name their entries) and the outbox's sinks that write in JS.
   */
  private async save(locked: Locked): Promise<void> {
    const customer = locked.customer;
    const changed = locked.dirty && projectionKey(customer) !== locked.stored;
    const placed = locked.placed.splice(0);
    const lifted = locked.lifted.splice(0);
    const entries = locked.audit.size;
    const publish = locked.dirty && locked.events.length > 0;
    if (!locked.dirty && placed.length === 0 && lifted.length === 0 && entries === 0) return;
    // What the statement stamps (CURRENT_TIMESTAMP, version + 1), set first: the events show it.
    const at = locked.txStartedAt;
    for (const hold of placed) {
      hold.createdAt = at;
      hold.updatedAt = at;
    }
    for (const hold of lifted) hold.updatedAt = at;
    if (changed) {
      customer.updatedAt = at;
      customer.version += 1;
    }
    // Delivered at the commit, whenever it is sent; this instance is told what was committed (a
    // change to the holds alone), so that its limits need not read the customer again.
    const announce = locked.dirty
      ? this.changes.changedWithin(customer.id, await this.committedHolds(locked))
      : null;
    const events = this.outbox.within(publish ? this.pendingEvents(locked) : [], SAVE_EVENTS_FIRST);
    if (publish) this.logAfterCommit(locked);
    locked.events = [];
    if (this.saveWrites?.ctes !== events.ctes) {
      this.saveWrites = {
        ctes: events.ctes,
        statement: namedByText('holds_save_writes', saveWritesSql(events)),
      };
    }
    const iso = (date: Date | null) => date?.toISOString() ?? null;
    const values = [
      placed.map((h) => h.id),
      placed.map((h) => h.customerId),
      placed.map((h) => h.source),
      placed.map((h) => h.reasonCode),
      placed.map((h) => h.reason),
      placed.map((h) => iso(h.startsAt)),
      placed.map((h) => iso(h.endsAt)),
      placed.map((h) => h.pauseBilling),
      placed.map((h) => h.notifyCustomer),
      placed.map((h) => h.placedByType),
      placed.map((h) => h.placedById),
      placed.map((h) => h.placedByName),
      placed.map((h) => iso(h.placedAt)),
      placed.map((h) => iso(h.reviewAt)),
      lifted.map((h) => h.id),
      lifted.map((h) => iso(h.liftedAt)),
      lifted.map((h) => h.liftedByType),
      lifted.map((h) => h.liftedById),
      lifted.map((h) => h.liftedByName),
      lifted.map((h) => h.liftReason),
      customer.id,
      customer.status,
      iso(customer.disabledAt),
      customer.disabledReason,
      customer.billingPaused,
      iso(customer.nextBoundaryAt),
      changed,
      announce?.channel ?? null,
      announce?.payload ?? null,
      announce !== null,
      ...locked.audit.take(),
      ...events.values,
    ];
    if (changed) locked.stored = projectionKey(customer);
    // Nothing follows the writes (no note, no sink writing in JS) and a run opened the
    // transaction: they go with the COMMIT, in one round trip.
    const answered =
      locked.notes.length === 0 && this.unitOfWork.canSendWithCommit()
        ? this.outbox.writtenOnAnswer(events)
        : undefined;
    if (answered !== undefined) {
      const sent = sendInTransaction(this.txHost.tx, this.saveWrites.statement, values);
      this.unitOfWork.sendWithCommit(sent, ({ rows }) => answered(rows[0]));
      return;
    }
    const { rows } = await runInTransaction(this.txHost.tx, this.saveWrites.statement, values);
    // The entries are sealed into the chain at the commit (the database takes the chain's lock
    // then, after every lock of this use case), in the order written here. The notes name their
    // entries, written by now.
    for (const { reason, auditLogId, author } of locked.notes.splice(0)) {
      await this.notes.addForAuditEntry(customer.id, author, reason, auditLogId);
    }
    await this.outbox.written(events, rows[0]);
  }

  /** The holds not lifted as the use case commits them, and who announces them. */
  private async committedHolds(locked: Locked): Promise<CommittedHolds | undefined> {
    const backendPid = await backendPidOf(this.txHost.tx);
    if (backendPid === undefined) return undefined;
    return { backendPid, unlifted: locked.holds.filter((hold) => hold.liftedAt === null) };
  }

  /** The events of the changes, with the customer as saved. */
  private pendingEvents(locked: Locked): NewEvent[] {
    const customer = this.customerDto(locked);
    return locked.events.map(({ type, hold }) => ({
      type,
      customerId: locked.customer.id,
      data: hold === null ? { customer } : { customer, hold: HoldDto.from(hold, locked.now) },
      notifyCustomer: hold?.notifyCustomer ?? true,
    }));
  }

  /** One log line per status change and hold change, once (and only if) they are committed. */
  private logAfterCommit(locked: Locked): void {
    const customerId = locked.customer.id;
    const status = locked.customer.status;
    const lines = locked.events.map(({ type, hold }) => ({ type, hold }));
    this.unitOfWork.afterCommit(() => {
      for (const { type, hold } of lines) {
        if (type === 'customer.disabled' || type === 'customer.enabled') {
          this.log.customerStatusChanged({ customerId, eventType: type, status, holdId: hold?.id });
        } else if (hold !== null) {
          this.log.holdChanged({
            customerId,
            holdId: hold.id,
            eventType: type,
            reasonCode: hold.reasonCode,
            source: hold.source,
          });
        }
      }
    });
  }

  private customerDto(locked: Locked): CustomerDto {
    return CustomerDto.from(locked.customer, accessFrom(locked.holds, locked.now));
  }
}

/** The derived states in SQL, at `:now`. */
const STATE_SQL: Record<HoldState, string> = {
  lifted: 'h.lifted_at IS NOT NULL',
  scheduled: 'h.lifted_at IS NULL AND h.starts_at > :now',
  expired: 'h.lifted_at IS NULL AND h.ends_at <= :now',
  active: 'h.lifted_at IS NULL AND h.starts_at <= :now AND (h.ends_at IS NULL OR h.ends_at > :now)',
};
