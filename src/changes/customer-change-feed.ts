import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, Notification } from 'pg';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { InjectConfig } from '../config/config.module';
import { ChangeAwareCache } from './change-aware-cache';
import {
  CUSTOMER_CHANGES_CHANNEL,
  CommittedChange,
  CustomerChanges,
  RECORD_KINDS,
  RecordKind,
} from './customer-changes';

/**
 * `customerId` null: anything may have changed, drop everything. `origin`: `local` when this
 * instance committed the change and says so itself (at once, after the commit), `database` when
 * it came through LISTEN (any instance's, this one's too) or from the connection itself.
 * `detail`: for `database`, the server process that sent the NOTIFY (none for what the
 * connection itself says); for `local`, the server process its NOTIFY comes back from, and the
 * holds as committed for a change to the customer's holds alone (CommittedChange).
 * `heardAt`: when the feed heard it, on the service's clock, the same instant for every listener
 * (an answer computed from then on includes the change).
 */
export type ChangeListener = (
  customerId: string | null,
  origin: ChangeOrigin,
  detail: ChangeDetail | undefined,
  heardAt: Date,
) => void;
export interface ChangeDetail {
  backendPid: number;
  /** Only for `local`: the customer's holds not lifted, as committed. */
  unlifted?: CommittedChange['unlifted'];
  /**
   * This is the second hearing of one commit: its NOTIFY after the instance's own word of it, or
   * the word after the NOTIFY (same customer, same server process, the other origin, within
   * `changeFeedStaleMs`). Whoever only needs to know that something changed has heard it.
   */
  heardBefore?: true;
}
export type ChangeOrigin = 'local' | 'database';
/** `id` null: any record of the kind may have changed unheard (or everything did): drop them all. */
export type RecordListener = (id: string | null) => void;

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
const CONNECT_TIMEOUT_MS = 5000;

/**
 * What every in-process cache of customer access listens to: changes committed by any instance
 * (a dedicated `pg` connection doing LISTEN) and by this one (told directly after the commit,
 * because the embedded engine delivers no NOTIFY between connections; on that engine, which
 * serves a single instance, only the latter is used).
 *
 * `live` is true only while changes from every instance are known to be heard. While it is false
 * a change made by another instance could go unheard, so caches must not be read or filled: they
 * are dropped when it turns false and again when the connection is back (what changed in between
 * was not heard), and bypassed in between. Reconnects back off from 100 ms to 5 s.
 *
 * A connection can hang instead of breaking (half-open TCP, a frozen server or proxy): nothing
 * fails, notifications just stop. So a heartbeat query runs every `changeFeedHeartbeatMs`, and
 * `live` turns false once no heartbeat sent in the last `changeFeedStaleMs` has been answered.
 * PostgreSQL sends a listener its pending notifications before the answer to its next query, so
 * an answer to a query sent at time T proves that every change committed before T was heard: a
 * change is unheard for at most `changeFeedStaleMs`. The hot path reads one boolean; a timer per
 * heartbeat (not per request) flips it, and the hung connection is then replaced.
 */
@Injectable()
export class CustomerChangeFeed
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('CustomerChangeFeed');
  private readonly listeners = new Set<ChangeListener>();
  private readonly recordListeners = new Map<RecordKind, Set<RecordListener>>(
    RECORD_KINDS.map((kind) => [kind, new Set()]),
  );
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private client: Client | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** When the newest answered heartbeat (or the LISTEN itself) was sent (performance.now()). */
  private lastAnsweredSent: number | null = null;
  /** Fires when the last answered heartbeat gets older than the bound. */
  private staleness: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private unsubscribeLocal: (() => void) | undefined;
  private unsubscribeLocalRecords: (() => void)[] = [];
  private isLive = false;
  private listensToDatabase = false;
  private readonly cachingOn: boolean;

  /**
   * The first hearing of each recent change that carried its server process, by customer (oldest
   * first), waiting for the second (ChangeDetail.heardBefore); kept for `changeFeedStaleMs`.
   */
  private readonly firstHearings = new Map<
    string,
    { backendPid: number; origin: ChangeOrigin; at: number }
  >();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly changes: CustomerChanges,
    private readonly clock: Clock,
    @InjectConfig() config: AppConfig,
  ) {
    this.heartbeatMs = config.changeFeedHeartbeatMs;
    this.staleMs = config.changeFeedStaleMs;
    this.cachingOn = config.limitsCache;
  }

  /**
   * True while changes from every instance are known to be heard (within `changeFeedStaleMs`):
   * only then may a cache be used. A field read, on every limits check.
   */
  get live(): boolean {
    return this.isLive;
  }

  /**
   * How far behind the feed may be, in ms: the age of the newest answered heartbeat's sending
   * (every change committed before it has been heard). Null while nothing was answered.
   */
  get lagMs(): number | null {
    return this.lastAnsweredSent === null ? null : performance.now() - this.lastAnsweredSent;
  }

  /**
   * Whether changes are heard through LISTEN: every instance's, this one's own too (a moment
   * after it says so itself). False on the embedded engine, which serves one instance and hears
   * only its own changes.
   */
  get listening(): boolean {
    return this.listensToDatabase;
  }

  /** The server process of the LISTEN connection (pg_stat_activity.pid), while connected. */
  get backendPid(): number | undefined {
    return this.isLive
      ? ((this.client as unknown as { processID?: number } | undefined)?.processID ?? undefined)
      : undefined;
  }

  /**
   * A cache this feed keeps true: used only while the feed is live and caching is on
   * (`LIMITS_CACHE`), emptied on a change to anything, and a customer's change drops the entry
   * keyed by its id, or, with `forCustomer`, the entries that predicate picks (keys that are not
   * customer ids). The feed lives as long as the caches that follow it: no unsubscribe.
   */
  cache<V>(options: {
    maxEntries: number;
    validUntil?: (value: V) => number | null;
    now?: () => number;
    forCustomer?: (value: V, customerId: string) => boolean;
  }): ChangeAwareCache<V> {
    const { forCustomer, ...rest } = options;
    const cache = new ChangeAwareCache<V>({
      ...rest,
      usable: this.cachingOn ? () => this.live : () => false,
    });
    this.subscribe((customerId) => {
      if (customerId === null) cache.clear();
      else if (forCustomer) cache.invalidateWhere((value) => forCustomer(value, customerId));
      else cache.invalidate(customerId);
    });
    return cache;
  }

  /**
   * A cache of records of `kind` (API keys, staff members) this feed keeps true: used only while
   * the feed is live and caching is on, emptied on a change to everything (or an outage), and a
   * record's announced change drops the entries whose `idOf` is its id. Customer changes leave it
   * alone, and it leaves customers alone: a key's revoke, even a platform key's, drops no
   * customer's limits.
   */
  recordCache<V>(
    kind: RecordKind,
    options: { maxEntries: number; idOf: (value: V) => string | undefined },
  ): ChangeAwareCache<V> {
    const cache = new ChangeAwareCache<V>({
      maxEntries: options.maxEntries,
      usable: this.cachingOn ? () => this.live : () => false,
    });
    this.subscribeRecords(kind, (id) => {
      if (id === null) cache.clear();
      else cache.invalidateWhere((value) => options.idOf(value) === id);
    });
    return cache;
  }

  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls `listener` on every announced change of a record of `kind`, and with null whenever
   * customer listeners hear null (a change to everything, the connection lost or back); returns
   * the unsubscribe function.
   */
  subscribeRecords(kind: RecordKind, listener: RecordListener): () => void {
    const listeners = this.recordListeners.get(kind)!;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  onModuleInit(): void {
    this.unsubscribeLocal = this.changes.onLocalChange((customerId, committed) =>
      this.emit(customerId, 'local', committed),
    );
    this.unsubscribeLocalRecords = RECORD_KINDS.map((kind) =>
      this.changes.onLocalRecordChange(kind, (id) => this.emitRecord(kind, id)),
    );
  }

  /** The first connection is awaited, so a started instance caches from its first request. */
  async onApplicationBootstrap(): Promise<void> {
    if (await this.onEmbeddedEngine()) {
      // It serves one instance and delivers no NOTIFY between connections (and its socket server
      // mixes up concurrent connections' messages): this instance's own changes, told after each
      // commit, are all the changes there are. No LISTEN connection, and the caches are usable.
      this.isLive = true;
      this.logger.log("Embedded database: caches follow this instance's own changes");
      return;
    }
    this.listensToDatabase = true;
    await this.connect();
  }

  private async onEmbeddedEngine(): Promise<boolean> {
    const [{ version }] = await this.dataSource.query<{ version: string }[]>('SELECT version()');
    return version.includes('PGlite');
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribeLocal?.();
    this.unsubscribeLocalRecords.forEach((unsubscribe) => unsubscribe());
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    clearTimeout(this.staleness);
    this.isLive = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private emit(
    customerId: string | null,
    origin: ChangeOrigin = 'database',
    detail?: ChangeDetail,
  ): void {
    const heardAt = this.clock.now();
    if (customerId !== null && detail !== undefined) {
      detail = this.pairHearings(customerId, origin, detail);
    }
    for (const listener of this.listeners) {
      try {
        listener(customerId, origin, detail, heardAt);
      } catch (error) {
        this.logger.error('A change listener failed', (error as Error).stack);
      }
    }
    if (customerId === null) for (const kind of RECORD_KINDS) this.emitRecord(kind, null);
  }

  /**
   * The detail, marked `heardBefore` when it is the second hearing of a commit whose first this
   * feed delivered: the same customer and server process, from the other origin. The word of a
   * server process's commits comes in their order, and so do their NOTIFYs, so the pending first
   * hearing is that of the same commit, or of an earlier one whose second hearing is still due
   * (which then comes unmarked: one hearing more, never one less).
   */
  private pairHearings(
    customerId: string,
    origin: ChangeOrigin,
    detail: ChangeDetail,
  ): ChangeDetail {
    const now = performance.now();
    const first = this.firstHearings.get(customerId);
    this.firstHearings.delete(customerId);
    if (
      first !== undefined &&
      first.backendPid === detail.backendPid &&
      first.origin !== origin &&
      now - first.at <= this.staleMs
    ) {
      return { ...detail, heardBefore: true };
    }
    this.firstHearings.set(customerId, { backendPid: detail.backendPid, origin, at: now });
    for (const [id, hearing] of this.firstHearings) {
      if (now - hearing.at <= this.staleMs) break;
      this.firstHearings.delete(id);
    }
    return detail;
  }

  private emitRecord(kind: RecordKind, id: string | null): void {
    for (const listener of this.recordListeners.get(kind)!) {
      try {
        listener(id);
      } catch (error) {
        this.logger.error(`A ${kind} listener failed`, (error as Error).stack);
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const options = this.dataSource.options as { url?: string; applicationName?: string };
    const client = new Client({
      connectionString: options.url,
      application_name: `${options.applicationName ?? 'customer-access'}-listener`,
      // The kernel's own probe, for a peer that vanished while the connection was idle; the
      // heartbeat below is what bounds staleness.
      keepAlive: true,
      keepAliveInitialDelayMillis: this.staleMs,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // Registered before connecting: an error event without a listener would crash the process.
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (message: Notification) => {
      if (message.channel !== CUSTOMER_CHANGES_CHANNEL) return;
      const payload = message.payload;
      const colon = payload?.indexOf(':') ?? -1;
      const kind = colon > 0 ? (payload!.slice(0, colon) as RecordKind) : undefined;
      if (kind !== undefined && this.recordListeners.has(kind)) {
        this.emitRecord(kind, payload!.slice(colon + 1));
      } else if (colon === -1) {
        this.emit(!payload || payload === '*' ? null : payload, 'database', {
          backendPid: message.processId,
        });
      }
    });
    let listenSent: number;
    try {
      this.client = client;
      await client.connect();
      listenSent = performance.now();
      await client.query(`LISTEN ${CUSTOMER_CHANGES_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.client !== client || this.stopped) return;
    this.failures = 0;
    // Whatever changed while nobody listened was not heard: start from an empty cache.
    this.emit(null);
    this.isLive = true;
    this.answered(client, listenSent);
    let beating = false; // one heartbeat at a time: a hung connection does not pile them up
    this.heartbeat = setInterval(() => {
      if (beating) return;
      beating = true;
      const sent = performance.now();
      client.query('SELECT 1').then(
        () => {
          beating = false;
          this.answered(client, sent);
        },
        (error: Error) => this.lost(client, error),
      );
    }, this.heartbeatMs).unref();
    this.logger.log(`Listening for customer changes on "${CUSTOMER_CHANGES_CHANNEL}"`);
  }

  /**
   * `client` answered a query sent at `sent`: every change committed before then has been heard.
   * The caches stay trusted until `staleMs` after it, unless a later heartbeat is answered.
   */
  private answered(client: Client, sent: number): void {
    if (this.client !== client) return;
    if (this.lastAnsweredSent === null || sent > this.lastAnsweredSent) {
      this.lastAnsweredSent = sent;
    }
    const left = sent + this.staleMs - performance.now();
    if (left <= 0) return; // too late to vouch for anything: the timer has fired or will
    clearTimeout(this.staleness);
    this.staleness = setTimeout(
      () => this.lost(client, new Error(`no heartbeat answered for ${this.staleMs} ms`)),
      left,
    ).unref();
  }

  private lost(client: Client, error: Error): void {
    if (this.client !== client) return; // an old connection, already replaced
    this.client = undefined;
    this.isLive = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.staleness);
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    // With a query in flight (a hung heartbeat) this destroys the socket rather than wait on it.
    void client.end().catch(() => undefined);
    this.emit(null);
    if (this.stopped) return;
    const delay = Math.min(FIRST_RETRY_MS * 2 ** this.failures, MAX_RETRY_MS);
    this.failures += 1;
    this.logger.warn(
      `The LISTEN connection is down (${error.message}); caches are bypassed. Reconnecting in ${delay} ms.`,
    );
    this.retry = setTimeout(() => void this.connect(), delay);
    this.retry.unref();
  }
}
