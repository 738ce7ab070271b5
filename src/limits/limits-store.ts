import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { ChangeDetail, CustomerChangeFeed } from '../changes/customer-change-feed';
import type { CommittedHold } from '../changes/customer-changes';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { pgPoolOf } from '../database/pg-pool';
import { isDatabaseUnavailable } from '../common/postgres-errors';
import { HotCount, Metrics } from '../observability/metrics';
import {
  CustomerLimits,
  customerLimitsAt,
  limitsJson,
  PendingHold,
  pendingHoldsFromJson,
  Standing,
} from './customer-limits';
import { LimitsReads, PACKED_LENGTH, RowKind } from './limits-reads';
import { hexNumber, hexWords, IdTable, isCanonicalUuid, uuidWords } from './id-table';
import { PlanSet, planSetKey, PlanSets } from './plan-sets';

const MIN_CAPACITY = 1024;
/** The loading statement may rightly run long: a million customers take seconds. */
const LOAD_TIMEOUT_MS = 10 * 60_000;
const FIRST_RETRY_MS = 100;
/** Attempts at the first load's snapshot before the start goes on without it. */
const START_ATTEMPTS = 4;
const MAX_RETRY_MS = 5000;

/**
 * Every customer's limits in a few typed arrays, a slot per customer (about 45 bytes each with
 * its id): its standing, a reference to its interned plan-set, when the answer was computed and
 * until when it holds by itself. Holds are kept only for the few customers that have pending
 * ones. Nothing per customer is an object on the heap.
 */
class Slots {
  readonly ids: IdTable;
  readonly holds = new Map<number, NonNullable<CustomerLimits['holds']>>();
  standing: Uint8Array;
  planSet: Int32Array;
  asOf: Float64Array;
  until: Float64Array;

  constructor(capacity: number) {
    this.ids = new IdTable(capacity);
    this.standing = new Uint8Array(capacity);
    this.planSet = new Int32Array(capacity);
    this.asOf = new Float64Array(capacity);
    this.until = new Float64Array(capacity);
  }

  get size(): number {
    return this.ids.size;
  }

  /** The customer's slot, added (unknown) if it has none. */
  slotOf(customerId: string): number {
    const slot = this.ids.slotOf(customerId);
    if (slot === this.standing.length) this.grow();
    return slot;
  }

  set(slot: number, limits: CustomerLimits): void {
    this.standing[slot] = limits.standing;
    this.planSet[slot] = limits.planSet.index;
    this.asOf[slot] = limits.asOf;
    this.until[slot] = limits.until;
    if (limits.holds === undefined) this.holds.delete(slot);
    else this.holds.set(slot, limits.holds);
  }

  /** The slot of the customer whose uuid words are given, added (unknown) if it has none. */
  slotOfWords(words: Uint32Array): number {
    const slot = this.ids.slotOfWords(words);
    if (slot === this.standing.length) this.grow();
    return slot;
  }

  /** The common case of the initial load: enabled, no hold pending. */
  setEnabled(slot: number, planSet: number, asOf: number): void {
    this.standing[slot] = Standing.Enabled;
    this.planSet[slot] = planSet;
    this.asOf[slot] = asOf;
    this.until[slot] = Infinity;
    this.holds.delete(slot);
  }

  private grow(): void {
    const capacity = this.standing.length * 2;
    const standing = new Uint8Array(capacity);
    standing.set(this.standing);
    const planSet = new Int32Array(capacity);
    planSet.set(this.planSet);
    const asOf = new Float64Array(capacity);
    asOf.set(this.asOf);
    const until = new Float64Array(capacity);
    until.set(this.until);
    Object.assign(this, { standing, planSet, asOf, until });
  }
}

/** A committed hold as the access rule reads a pending one (as pendingHoldsFromJson does). */
function pendingHold(hold: CommittedHold): PendingHold {
  return {
    id: hold.id,
    source: hold.source as PendingHold['source'],
    reasonCode: hold.reasonCode,
    reason: null,
    startsAt: hold.startsAt,
    endsAt: hold.endsAt,
    liftedAt: null,
    pauseBilling: false,
  };
}

/** A read of one customer in flight, and the changes announced for it since. */
interface Flight {
  generation: number;
  pending: number;
  /** A read started at the current generation, that a request may share. */
  shared: Promise<CustomerLimits | undefined> | undefined;
}

/** A load of every customer in progress. */
interface Build {
  epoch: number;
  /** Customers announced changed since it began: their rows from the load may be older. */
  changed: IdTable;
  client: Client | undefined;
  /** Settles once its snapshot is taken (true) or it failed (false). */
  snapshot: Promise<boolean>;
}

export interface LimitsStoreStats {
  /** Customers in memory (some of them may be waiting for a reload). */
  customers: number;
  planSets: number;
  /** Whether the last load of every customer has completed. */
  loaded: boolean;
  /** Reads of one customer from the database: misses, reloads after a change, bypasses. */
  customerReads: number;
  /** Loads of every customer started (the first one, then one after each change to everything). */
  loads: number;
}

/**
 * The limits of every customer, in memory, kept true by the change feed: the hot path answers
 * from here without a query (the customer backends' check on each of their requests).
 *
 * Loaded at start by one streaming statement in one snapshot (rows of 2,000 customers packed, kept
 * as they arrive, never all at once), after the feed listens, so that no change committed after
 * the snapshot goes unheard; the start waits for the snapshot, not for the rows. A customer's
 * change drops its answer at once and reloads it with one prepared query; requests in between
 * read the database. A change to everything, or the feed losing its connection, drops everything
 * and loads again. Answers come from memory only while the feed is live (`CHANGE_FEED_STALE_MS`).
 *
 * Each entry is trusted by itself, like a cache entry: a customer's row from the load is kept
 * unless the customer was announced changed since the load began (the row may predate the
 * change), and a read of one customer is kept unless a change to it, or to everything, was
 * announced while it was in flight (ChangeAwareCache's rule). So until the load completes,
 * customers not loaded yet are read from the database and kept, and the others answer from
 * memory. A hold's start or end is applied from memory at its instant: the answer holds until
 * `until`, and the Nest route moves it on.
 *
 * With `LIMITS_CACHE=false` nothing is kept: every answer is read from the database.
 */
@Injectable()
export class LimitsStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LimitsStore');
  private readonly keeping: boolean;
  private readonly connectTimeoutMs: number;
  private readonly reads: LimitsReads;
  private embedded: Promise<boolean> | undefined;
  private slots = new Slots(MIN_CAPACITY);
  private planSets = new PlanSets();
  /** Bumped by a change to everything: what was read before is not kept. */
  private epoch = 0;
  private build: Build | undefined;
  private loaded = false;
  private readonly flights = new Map<string, Flight>();
  /** Customers being reloaded after a change; true: changed again meanwhile, reload again. */
  private readonly reloading = new Map<string, boolean>();
  /**
   * Customers whose change this instance committed and applied itself (ownChange), by the
   * server process whose NOTIFY of it is still to come back through LISTEN.
   */
  private readonly echoes = new Map<string, { backendPid: number; at: number }>();
  /**
   * How long an own change's NOTIFY may take to come back while the feed is live: a wait for it
   * older than this is stale (it was heard before this instance said so itself).
   */
  private readonly echoWithinMs: number;
  /**
   * Customers being reloaded after a change heard through LISTEN, by the server process that
   * announced it: when it was this instance's own change, heard before this instance said so
   * itself, the reload already reads it.
   */
  private readonly heardFirst = new Map<string, number>();
  private stopped = false;
  private customerReads = 0;
  private loads = 0;
  private isoOf = NaN;
  private iso = '';
  private readonly countHit: HotCount | undefined;
  private readonly countMiss: HotCount | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly feed: CustomerChangeFeed,
    private readonly clock: Clock,
    @InjectConfig() config: AppConfig,
    @Optional() metrics?: Metrics,
  ) {
    // Plain counts, added to limits_cache_lookups_total when /metrics reads it: counting a
    // look-up costs the hot path one addition, no label hashing.
    this.countHit = metrics?.hotLookups('hit');
    this.countMiss = metrics?.hotLookups('miss');
    this.keeping = config.limitsCache;
    this.connectTimeoutMs = config.databaseConnectTimeoutMs;
    this.echoWithinMs = config.changeFeedStaleMs;
    this.reads = new LimitsReads(dataSource);
    if (this.keeping) {
      feed.subscribe((customerId, origin, detail, heardAt) => {
        if (customerId === null) this.everythingChanged();
        else if (origin === 'local') this.ownChange(customerId, detail, heardAt.getTime());
        else if (!this.ownEcho(customerId, detail?.backendPid)) {
          this.customerChanged(customerId, true);
          if (detail !== undefined && this.reloading.has(customerId)) {
            this.heardFirst.set(customerId, detail.backendPid);
          }
        }
      });
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.keeping) return;
    // The feed announces "everything changed" once it listens (already done, unless it starts
    // after this), which starts a load; on the embedded engine it announces nothing.
    if (this.epoch === 0) this.epoch = 1;
    // The start waits for the load's snapshot (one round trip), not for its rows: customers
    // written from then on are heard, not loaded, whatever they are written with. A first
    // attempt that fails (no connection to be had) is tried again a few times first.
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt += 1) {
      if (await this.loadAll(this.epoch, attempt)) return;
      await new Promise((resolve) => setTimeout(resolve, FIRST_RETRY_MS * 2 ** attempt));
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.epoch += 1;
    this.abortBuild();
  }

  stats(): LimitsStoreStats {
    return {
      customers: this.slots.size,
      planSets: this.planSets.size,
      loaded: this.loaded,
      customerReads: this.customerReads,
      loads: this.loads,
    };
  }

  /**
   * The customer's limits answer (LimitsDto in JSON) if memory alone can give it now, else
   * undefined: not in memory, changed and not reloaded yet, a hold's boundary passed since it
   * was computed, or the feed not live. Never reads. The fast lane's question.
   */
  inMemory(customerId: string): string | undefined {
    if (!this.feed.live) return undefined;
    const slots = this.slots;
    const slot = slots.ids.get(customerId);
    if (slot === undefined) return undefined;
    const standing = slots.standing[slot] as Standing;
    if (standing === Standing.Unknown) return undefined;
    const until = slots.until[slot];
    if (until !== Infinity && this.clock.now().getTime() >= until) return undefined;
    this.countHit?.inc();
    return limitsJson(
      customerId,
      standing,
      this.planSets.at(slots.planSet[slot]),
      standing === Standing.Disabled ? slots.holds.get(slot)!.json : undefined,
      this.isoString(slots.asOf[slot]),
    );
  }

  /**
   * The customer's holds in play (active, or still to come) as this instance's memory has them,
   * `[]` for none; undefined when memory cannot say (the change feed not live, the customer not
   * loaded, a change announced and not read yet). A hint for choosing a path, never a decision:
   * a change of another instance may not be heard yet.
   */
  holdsInPlay(customerId: string): readonly PendingHold[] | undefined {
    if (!this.feed.live) return undefined;
    const slots = this.slots;
    const slot = slots.ids.get(customerId);
    if (slot === undefined || slots.standing[slot] === Standing.Unknown) return undefined;
    return slots.holds.get(slot)?.pending ?? [];
  }

  /** The customer's limits answer in JSON: from memory when it can, else read. 404 when unknown. */
  limitsOf(customerId: string): string | Promise<string> {
    const hit = this.inMemory(customerId) ?? this.moveOn(customerId);
    if (hit !== undefined) return hit;
    this.countMiss?.inc();
    return this.load(customerId).then((limits) => {
      if (limits === undefined) throw new NotFoundError('Customer', customerId);
      const now = this.clock.now().getTime();
      // A shared read may have been computed before a boundary that has passed since.
      const current =
        limits.until <= now && limits.holds !== undefined
          ? customerLimitsAt(limits.planSet, limits.holds.pending, now)
          : limits;
      return limitsJson(
        customerId,
        current.standing,
        current.planSet,
        current.holds?.json,
        this.isoString(current.asOf),
      );
    });
  }

  /**
   * A customer in memory whose hold started or ended since its answer was computed: the answer
   * at now, from its holds in memory (nothing else can have changed unannounced).
   */
  private moveOn(customerId: string): string | undefined {
    if (!this.feed.live) return undefined;
    const slots = this.slots;
    const slot = slots.ids.get(customerId);
    if (slot === undefined || slots.standing[slot] === Standing.Unknown) return undefined;
    const holds = slots.holds.get(slot);
    if (holds === undefined) return undefined;
    const now = this.clock.now().getTime();
    slots.set(slot, customerLimitsAt(this.planSets.at(slots.planSet[slot]), holds.pending, now));
    return this.inMemory(customerId);
  }

  /** An instant in ISO 8601, remembered for the next answer (most share their load's instant). */
  private isoString(ms: number): string {
    if (ms !== this.isoOf) {
      this.isoOf = ms;
      this.iso = new Date(ms).toISOString();
    }
    return this.iso;
  }

  /**
   * This instance's own committed change. Its NOTIFY comes back through LISTEN a moment later:
   * the answer is dropped now and read again then, once (not twice: once for each hearing).
   * But a change to the customer's holds alone, on a customer in memory, is applied here from
   * the holds as committed (its plan-set is what it was), and its hearing is skipped: no read.
   * Other instances hear it and read it as before. Applied only when the answer was known (no
   * change announced and not read since, so the plan-set is the latest heard) and no other
   * change of this instance to the customer awaits its hearing (two of them may get here out of
   * commit order: the second is read again when heard, as before).
   */
  private ownChange(customerId: string, detail: ChangeDetail | undefined, heardAt: number): void {
    if (detail !== undefined && this.heardFirst.get(customerId) === detail.backendPid) {
      // Its NOTIFY was heard first (delivered once committed): the reload it started reads it.
      this.heardFirst.delete(customerId);
      return;
    }
    const listening = this.feed.listening;
    const slots = this.slots;
    const slot = slots.ids.get(customerId);
    const known = slot !== undefined && slots.standing[slot] !== Standing.Unknown;
    this.customerChanged(customerId, !listening);
    if (
      detail?.unlifted === undefined ||
      slot === undefined ||
      !known ||
      !listening ||
      !this.feed.live ||
      this.awaitsEcho(customerId)
    ) {
      return;
    }
    // As of the instant the feed heard it, which the access stream announces it with: a client
    // keeps an answer computed no earlier than the change it heard.
    const limits = customerLimitsAt(
      this.planSets.at(slots.planSet[slot]),
      detail.unlifted.map(pendingHold),
      heardAt,
    );
    slots.set(slot, limits);
    this.echoes.set(customerId, { backendPid: detail.backendPid, at: performance.now() });
  }

  /**
   * Whether a change heard through LISTEN is this instance's own, already applied (ownChange):
   * announced by the server process it awaits for the customer. Any other is read.
   */
  private ownEcho(customerId: string, backendPid: number | undefined): boolean {
    const echo = this.echoes.get(customerId);
    if (backendPid === undefined || echo?.backendPid !== backendPid) return false;
    this.echoes.delete(customerId);
    return performance.now() - echo.at <= this.echoWithinMs;
  }

  /** Whether an own change applied to the customer still awaits its NOTIFY (and may get it). */
  private awaitsEcho(customerId: string): boolean {
    const echo = this.echoes.get(customerId);
    if (echo === undefined) return false;
    if (performance.now() - echo.at <= this.echoWithinMs) return true;
    this.echoes.delete(customerId);
    return false;
  }

  /** Drops the customer's answer, and reads it again at once when `reload`. */
  private customerChanged(customerId: string, reload: boolean): void {
    const flight = this.flights.get(customerId);
    if (flight !== undefined) {
      flight.generation += 1;
      flight.shared = undefined;
    }
    if (this.build !== undefined && isCanonicalUuid(customerId)) {
      this.build.changed.slotOf(customerId);
    }
    const slot = this.slots.ids.get(customerId);
    if (slot !== undefined) {
      this.slots.standing[slot] = Standing.Unknown;
      if (reload) this.reload(customerId);
    }
  }

  /** Reads a changed customer again, one read at a time per customer. */
  private reload(customerId: string): void {
    if (this.reloading.has(customerId)) {
      this.reloading.set(customerId, true);
      return;
    }
    this.reloading.set(customerId, false);
    this.load(customerId)
      .catch((error: Error) =>
        // Left unknown: the next request reads it (and reports an outage itself).
        this.logger.debug(`Reloading the limits of ${customerId} failed: ${error.message}`),
      )
      .finally(() => {
        this.heardFirst.delete(customerId);
        const again = this.reloading.get(customerId);
        this.reloading.delete(customerId);
        const slot = this.slots.ids.get(customerId);
        if (again && slot !== undefined && this.slots.standing[slot] === Standing.Unknown) {
          this.reload(customerId);
        }
      });
  }

  /**
   * Reads one customer and keeps the answer if nothing was announced about it, or about
   * everything, while the read was in flight, and the feed is live. A request may share a read
   * that started after the last such announcement.
   */
  private load(customerId: string): Promise<CustomerLimits | undefined> {
    let flight = this.flights.get(customerId);
    if (flight === undefined) {
      flight = { generation: 0, pending: 0, shared: undefined };
      this.flights.set(customerId, flight);
    }
    if (flight.shared !== undefined && this.feed.live) return flight.shared;
    const own = flight;
    const generation = own.generation;
    const epoch = this.epoch;
    own.pending += 1;
    const read = this.read(customerId).then((limits) => {
      if (
        limits !== undefined &&
        this.keeping &&
        own.generation === generation &&
        this.epoch === epoch &&
        this.feed.live
      ) {
        this.slots.set(this.slots.slotOf(customerId), limits);
      }
      return limits;
    });
    own.shared = read;
    const done = () => {
      if (own.shared === read) own.shared = undefined;
      own.pending -= 1;
      if (own.pending === 0 && this.flights.get(customerId) === own) {
        this.flights.delete(customerId);
      }
    };
    read.then(done, done);
    return read;
  }

  /** One prepared query through `pg`; the plans it names are read too if not known yet. */
  private async read(customerId: string): Promise<CustomerLimits | undefined> {
    this.customerReads += 1;
    const now = this.clock.now().getTime();
    const row = await this.reads.customer(customerId, now);
    if (row === undefined) return undefined;
    const planSet = await this.planSetOf(row[0] ?? '');
    return customerLimitsAt(planSet, pendingHoldsFromJson(row[1]), now);
  }

  private async planSetOf(key: string): Promise<PlanSet> {
    // With LIMITS_CACHE=false the plans too are read for every answer.
    const planSets = this.keeping ? this.planSets : new PlanSets();
    const known = planSets.intern(key);
    if (known !== undefined) return known;
    planSets.addPlans(await this.reads.plans(planSets.unknownPlans(key)));
    const planSet = planSets.intern(key);
    // A subscription's plan exists (a foreign key), and plans are never deleted.
    if (planSet === undefined) throw new Error(`Plans of ${key} not found`);
    return planSet;
  }

  /** A change to everything, or to what the feed may not have heard: start again from nothing. */
  private everythingChanged(): void {
    this.epoch += 1;
    // What was applied is dropped, and so are the hearings it awaits (the connection may be new).
    this.echoes.clear();
    this.heardFirst.clear();
    this.abortBuild();
    this.loaded = false;
    this.slots = new Slots(Math.max(MIN_CAPACITY, this.slots.size));
    this.planSets = new PlanSets();
    for (const flight of this.flights.values()) flight.shared = undefined;
    const epoch = this.epoch;
    // The feed announces this before it turns live again: look once it had the chance.
    setImmediate(() => void this.loadAll(epoch, 0));
  }

  private abortBuild(): void {
    const client = this.build?.client;
    this.build = undefined;
    void client?.end().catch(() => undefined);
  }

  /**
   * Loads every customer of `epoch`, unless a later change to everything comes first. Resolves
   * once the load's snapshot is taken (true), or it failed (false: it is tried again later), or
   * there is nothing to load now (true); the rows then arrive in the background.
   */
  private loadAll(epoch: number, failures: number): Promise<boolean> {
    if (this.build?.epoch === epoch) return this.build.snapshot;
    if (epoch !== this.epoch || this.stopped || !this.feed.live) return Promise.resolve(true);
    let settle!: (taken: boolean) => void;
    const snapshot = new Promise<boolean>((resolve) => (settle = resolve));
    const snapshotTaken = () => settle(true);
    const build: Build = { epoch, changed: new IdTable(), client: undefined, snapshot };
    this.build = build;
    this.loads += 1;
    const started = performance.now();
    const planSets = this.planSets;
    const slots = this.slots;
    const planIds: string[] = [];
    const planSetByNumber: number[] = [];
    const holders = new IdTable();
    const holds: string[] = [];
    const words = new Uint32Array(4);
    let customers = 0;
    /** Whether a row of the load may set the customer: not changed since, not read since. */
    const fills = (): boolean => {
      if (build.changed.size > 0 && build.changed.getWords(words) !== undefined) return false;
      // A customer read by a request since is kept as read: the row is no truer.
      const known = slots.ids.getWords(words);
      return known === undefined || slots.standing[known] === Standing.Unknown;
    };
    const keep = (kind: number, part: number, data: string, now: number) => {
      if (epoch !== this.epoch) return;
      switch (kind) {
        case RowKind.Plan:
          planIds[part] = data;
          break;
        case RowKind.PlanSet: {
          const ids = data === '' ? [] : data.split(',').map((no) => planIds[Number(no)]);
          // The plans were read in the same snapshot: every plan named is known.
          const planSet = planSets.intern(planSetKey(ids));
          if (planSet === undefined) throw new Error(`A plan of ${data} is not known`);
          planSetByNumber[part] = planSet.index;
          break;
        }
        case RowKind.Holds: {
          const space = data.indexOf(' ');
          if (!uuidWords(data.slice(0, space), words)) throw new Error('Not a customer id');
          holds[holders.slotOfWords(words)] = data.slice(space + 1);
          break;
        }
        case RowKind.Customers:
          for (let at = 0; at < data.length; at += PACKED_LENGTH) {
            if (!hexWords(data, at, words)) throw new Error('Not a packed customer');
            customers += 1;
            if (!fills()) continue;
            const planSet = planSetByNumber[hexNumber(data, at + 32, at + PACKED_LENGTH)];
            const slot = slots.slotOfWords(words);
            const held = holders.size > 0 ? holders.getWords(words) : undefined;
            if (held === undefined) slots.setEnabled(slot, planSet, now);
            else {
              slots.set(
                slot,
                customerLimitsAt(planSets.at(planSet), pendingHoldsFromJson(holds[held]), now),
              );
            }
          }
          break;
      }
    };
    this.streamAll(build, planSets, snapshotTaken, keep).then(
      () => {
        if (epoch !== this.epoch) return;
        this.build = undefined;
        this.loaded = true;
        this.logger.log(
          `Limits of ${customers} customers in memory (${planSets.size} plan-sets): loaded in ` +
            `${Math.round(performance.now() - started)} ms, ${process.uptime().toFixed(1)} s ` +
            'after the process started',
        );
      },
      (error: Error) => {
        settle(false);
        if (epoch !== this.epoch || this.stopped) return;
        this.build = undefined;
        const delay = Math.min(FIRST_RETRY_MS * 2 ** failures, MAX_RETRY_MS);
        // An outage is logged once by the requests it refuses (DatabaseAvailability), not again
        // here; any other failure is worth a warning.
        const message =
          `Loading the limits of every customer failed (${error.message}); answering from ` +
          `the database, trying again in ${delay} ms`;
        if (isDatabaseUnavailable(error)) this.logger.debug(message);
        else this.logger.warn(message);
        setTimeout(() => void this.loadAll(epoch, failures + 1), delay).unref();
      },
    );
    return snapshot;
  }

  /** Whether the database is the embedded engine (asked once). */
  private onEmbeddedEngine(): Promise<boolean> {
    this.embedded ??= this.dataSource
      .query<{ version: string }[]>('SELECT version()')
      .then(([{ version }]) => version.includes('PGlite'))
      .catch((error: unknown) => {
        this.embedded = undefined; // asked again next time
        throw error;
      });
    return this.embedded;
  }

  /**
   * In one read-only snapshot: the plans, then every customer, row by row through `keep`. On
   * PostgreSQL on a connection of its own (named `…-loader`, with a statement timeout fit for
   * it, and not holding a pooled connection for seconds); on the embedded engine, which serves
   * one connection at a time, on a pooled one.
   */
  private async streamAll(
    build: Build,
    planSets: PlanSets,
    snapshotTaken: () => void,
    keep: (kind: number, part: number, data: string, now: number) => void,
  ): Promise<number> {
    const pool = pgPoolOf(this.dataSource);
    let client: Client | PoolClient;
    let pooled: PoolClient | undefined;
    if (await this.onEmbeddedEngine()) {
      pooled = await pool.connect();
      client = pooled;
    } else {
      const options = this.dataSource.options as { url?: string; applicationName?: string };
      const own = new Client({
        connectionString: options.url,
        application_name: `${options.applicationName ?? 'customer-access'}-loader`,
        connectionTimeoutMillis: this.connectTimeoutMs,
        statement_timeout: LOAD_TIMEOUT_MS,
        query_timeout: LOAD_TIMEOUT_MS + 1000,
      });
      own.on('error', () => undefined); // the query in flight fails too, and that is handled
      build.client = own;
      client = own;
      await own.connect();
    }
    let done = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // Hashes and sorts over every customer: in memory rather than in batches on disk; and no
      // JIT, whose compiling costs more than it saves on these.
      await client.query("SET LOCAL work_mem = '64MB'");
      await client.query('SET LOCAL jit = off');
      // The transaction's first statement takes its snapshot: customers created from now on are
      // not in the load, and their changes are heard.
      planSets.addPlans(await this.reads.plans(null, client));
      snapshotTaken();
      const now = this.clock.now().getTime();
      const rows = await LimitsReads.streamAll(client, now, (kind, part, data) =>
        keep(kind, part, data, now),
      );
      await client.query('COMMIT');
      done = true;
      return rows;
    } finally {
      if (pooled !== undefined) {
        if (!done) await pooled.query('ROLLBACK').catch(() => undefined);
        pooled.release(!done);
      } else {
        if (build.client === client) build.client = undefined;
        void client.end().catch(() => undefined);
      }
    }
  }
}
