import { monitorEventLoopDelay, IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A figure computed when Prometheus scrapes (a cheap query), not kept up to date. */
export type ScrapeCollector = () => Promise<void> | void;

/**
 * A count kept as a plain number on a hot path (the limits fast lane's hits) and added to its
 * prom-client counter when the counter is read (`/metrics`): the series is the same, and a hit
 * costs one addition instead of prom-client's label hashing.
 */
export interface HotCount {
  inc(): void;
}

/**
 * Observations of one series of a histogram kept as plain bucket counts on a hot path, added to
 * the prom-client histogram when it is read: the same buckets, sum and count as if observed one
 * by one.
 */
export interface HotObservations {
  observe(seconds: number): void;
}

/** The one series of a prom-client 15 histogram, as it keeps it (no public setter exists). */
interface HistogramSeries {
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

class PendingCount implements HotCount {
  n = 0;

  inc(): void {
    this.n += 1;
  }
}

class PendingObservations implements HotObservations {
  /** Per upper bound (prom-client's order), and one past the last for +Inf only. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly upperBounds: readonly number[]) {
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.upperBounds;
    let at = 0;
    while (at < bounds.length && seconds > bounds[at]) at += 1;
    this.counts[at] += 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/**
 * Every metric of one app instance, in its own registry: two apps in one process (the tests)
 * neither share nor clash. Modules count through the fields and setters here; `/metrics` renders
 * the registry after running the scrape-time collectors.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly collectors: ScrapeCollector[] = [];
  private readonly loopDelay: IntervalHistogram;

  private readonly hotCounts: (() => void)[] = [];
  private readonly hotObservations: (() => void)[] = [];

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to its answer sent, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
    collect: () => this.hotObservations.forEach((fold) => fold()),
  });

  /** Limits and API key look-ups: `hit` (answered from memory), `miss` (read from the database). */
  readonly limitsLookups = new Counter({
    name: 'limits_cache_lookups_total',
    help: 'Limits cache look-ups by result (hit, miss, bypass)',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: () => this.hotCounts.forEach((fold) => fold()),
  });

  readonly changeFeedLive = new Gauge({
    name: 'change_feed_live',
    help: '1 while the LISTEN change feed is live (caches trusted), 0 while it is stale or down',
    registers: [this.registry],
  });

  readonly changeFeedLag = new Gauge({
    name: 'change_feed_lag_seconds',
    help: 'Age of the newest answered heartbeat of the change feed',
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by result (delivered, retry, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly emails = new Counter({
    name: 'emails_total',
    help: 'Customer email attempts by result (sent, retry, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Claimed deliveries given back to the queue unsent because the instance is stopping. */
  readonly outboxHandedBack = new Counter({
    name: 'outbox_handed_back_total',
    help: 'Webhook deliveries and emails handed back to the queue unsent at shutdown, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly outboxPending = new Gauge({
    name: 'outbox_pending',
    help: 'Webhook deliveries and emails waiting to be sent, by kind (at scrape time)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly outboxOldestPendingAge = new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest webhook delivery or email waiting, by kind (0 when none)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly dunningRuns = new Counter({
    name: 'dunning_runs_total',
    help: 'Dunning runs by result (completed, stopped by a shutdown, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly dunningRunDuration = new Histogram({
    name: 'dunning_run_duration_seconds',
    help: 'Duration of the dunning runs that ran',
    buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [this.registry],
  });

  readonly databasePool = new Gauge({
    name: 'database_pool_connections',
    help: 'Connections of the database pool by state (in_use, idle) and requests waiting for one',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly eventLoopLag = new Gauge({
    name: 'event_loop_lag_seconds',
    help: 'Event loop delay since the previous scrape: p99 and max',
    labelNames: ['quantile'] as const,
    registers: [this.registry],
  });

  constructor() {
    // process_* and nodejs_* (CPU, memory, handles, GC and nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: this.registry });
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    this.onScrape(() => {
      this.eventLoopLag.set({ quantile: '0.99' }, this.loopDelay.percentile(99) / 1e9);
      this.eventLoopLag.set({ quantile: '1' }, this.loopDelay.max / 1e9);
      this.loopDelay.reset();
    });
  }

  /** A count of `limitsLookups{result}` for a hot path, added to the counter when it is read. */
  hotLookups(result: 'hit' | 'miss'): HotCount {
    const pending = new PendingCount();
    const counter = this.limitsLookups;
    this.hotCounts.push(() => {
      const n = pending.n;
      if (n === 0) return;
      pending.n = 0;
      counter.inc({ result }, n);
    });
    return pending;
  }

  /**
   * Observations of one `httpRequestDuration` series for a hot path (the limits fast lane's
   * answers), added to the histogram's buckets, sum and count when it is read.
   */
  hotRequestDurations(labels: { method: string; route: string; status: string }): HotObservations {
    const histogram = this.httpRequestDuration;
    const internal = histogram as unknown as {
      upperBounds?: readonly number[];
      hashMap?: Record<string, HistogramSeries>;
    };
    const bounds = internal.upperBounds;
    // prom-client is pinned: one that keeps its series otherwise fails the start here (and the
    // tests), rather than losing observations.
    if (!Array.isArray(bounds) || typeof internal.hashMap !== 'object') {
      throw new Error('This prom-client keeps its histogram series in an unknown shape');
    }
    const pending = new PendingObservations(bounds);
    this.hotObservations.push(() => {
      if (pending.count === 0) return;
      const series = seriesOf(histogram, internal, labels);
      bounds.forEach((bound, at) => {
        series.bucketValues[bound] += pending.counts[at];
      });
      series.sum += pending.sum;
      series.count += pending.count;
      pending.counts.fill(0);
      pending.sum = 0;
      pending.count = 0;
    });
    return pending;
  }

  /** The change feed's state, for the lead to call from the feed: live or not, and its lag. */
  setChangeFeedState(live: boolean, lagSeconds?: number): void {
    this.changeFeedLive.set(live ? 1 : 0);
    if (lagSeconds !== undefined) this.changeFeedLag.set(lagSeconds);
  }

  /** Runs at every scrape, before the registry is rendered. */
  onScrape(collector: ScrapeCollector): void {
    this.collectors.push(collector);
  }

  /** The Prometheus text exposition, with the scrape-time figures fresh. */
  async render(): Promise<string> {
    // One failing collector (the database away) must not hide the other figures.
    await Promise.allSettled(this.collectors.map(async (collect) => collect()));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  stop(): void {
    this.loopDelay.disable();
  }
}

/** The histogram's series of `labels`, made (at zero) when it has none yet. */
function seriesOf(
  histogram: Histogram<string>,
  internal: { hashMap?: Record<string, HistogramSeries> },
  labels: Record<string, string>,
): HistogramSeries {
  const matches = (series: HistogramSeries & { labels?: Record<string, unknown> }) =>
    Object.keys(labels).every((name) => series.labels?.[name] === labels[name]);
  let found = Object.values(internal.hashMap ?? {}).find(matches);
  if (found === undefined) {
    histogram.zero(labels);
    found = Object.values(internal.hashMap ?? {}).find(matches);
  }
  if (found === undefined || typeof found.bucketValues !== 'object') {
    throw new Error('This prom-client keeps its histogram series in an unknown shape');
  }
  return found;
}
