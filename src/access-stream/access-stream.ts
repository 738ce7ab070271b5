import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CustomerChangeFeed } from '../changes/customer-change-feed';
import { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

/** Events kept for clients that reconnect with `Last-Event-ID`; older ones get a `reset`. */
export const REPLAY_EVENTS = 10_000;
/**
 * Output waiting for a client beyond this (a burst of changes faster than it reads, or a client
 * that stopped reading) is not added to: the client gets a `reset` once it has read the rest.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;
/** A client still that far behind after this many heartbeat periods is disconnected. */
export const STALLED_PERIODS = 20;
/** What a browser's EventSource waits before reconnecting (the client library has its own backoff). */
const RETRY_MS = 1000;

/** Why a stream tells its client to drop everything it holds. */
export type ResetReason =
  /** A change to everything (a plan many customers share, a platform key revoked). */
  | 'everything_changed'
  /** The change feed lost, or just got back, its connection: changes in between were not heard. */
  | 'feed_interrupted'
  /** A stream opened without `Last-Event-ID`: nothing tells what the client already holds. */
  | 'new_stream'
  /** `Last-Event-ID` is not one of this instance's (another instance, or before a restart). */
  | 'unknown_event_id'
  /** `Last-Event-ID` is older than the events this instance still keeps. */
  | 'events_expired'
  /** Events were left out while the client was over MAX_UNREAD_BYTES behind. */
  | 'fell_behind';

/** One event of the shared sequence, its frame rendered once for every client. */
interface SequencedEvent {
  n: number;
  frame: string;
}

interface StreamClient {
  response: ServerResponse;
  /** Heartbeat periods since events stopped being written to it (it fell behind); 0 if not. */
  behindFor: number;
}

/**
 * `GET /access/stream`: every committed change to a customer's access that this instance's change
 * feed hears, as server-sent events, so that a client library can keep a cache of limits in the
 * customer's backend and drop exactly what changed.
 *
 * Events are numbered per instance, `<instanceId>:<n>` (instanceId is random per process), and the
 * last REPLAY_EVENTS are kept: a client that reconnects with `Last-Event-ID` gets what it missed,
 * or a `reset` when this instance cannot tell (an id of another instance or process, or one too
 * old). `changed` names a customer, once per commit, as of its first hearing; `reset` (a `*` change, or the feed interrupted) means drop
 * everything. `heartbeat` is sent every `STREAM_HEARTBEAT_MS`, and only while the feed is live:
 * it vouches that every change heard until then has been sent before it, and the feed is live
 * only while it hears every instance within `CHANGE_FEED_STALE_MS`. While the feed is not live,
 * the stream sends comments (which are not events) to keep proxies from closing it, and no
 * heartbeat, so a client sees it going stale; the feed announces both its loss and its return as a
 * change to everything, which the stream passes on as `reset`.
 *
 * Frames are rendered once and written to every client. Output is not buffered without end: once
 * more than MAX_UNREAD_BYTES wait for a client (a burst of changes, or a client that stopped
 * reading), it gets nothing more, heartbeats included, until it has read them, and then a `reset`
 * that stands for what was left out; one still behind after STALLED_PERIODS heartbeat periods is
 * disconnected. Streams end when the app shuts down.
 */
@Injectable()
export class AccessStream implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AccessStream');
  /** Random per process: an id from another instance, or from before a restart, is unknown. */
  readonly instanceId = randomBytes(6).toString('base64url');
  private readonly clients = new Set<StreamClient>();
  /** A ring of the last REPLAY_EVENTS events: event n is at n % REPLAY_EVENTS. */
  private readonly ring: (SequencedEvent | undefined)[] = new Array<SequencedEvent | undefined>(
    REPLAY_EVENTS,
  );
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  /** The feed's state when last looked at, before a heartbeat. */
  private wasLive = true;
  /** How many events (changed and reset) and heartbeats went out, for tests and metrics. */
  private counts = { changed: 0, reset: 0, heartbeat: 0, fellBehind: 0, cutOff: 0 };

  constructor(
    private readonly feed: CustomerChangeFeed,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.feed.subscribe((customerId, _origin, detail, heardAt) => {
      if (customerId === null) {
        this.publishReset(this.feed.live ? 'everything_changed' : 'feed_interrupted');
      } else if (!detail?.heardBefore) {
        // Once per commit, as of its first hearing: announced again at its second (this
        // instance's NOTIFY after its own word), it would tell clients that answers computed
        // between the two predate it, the limits store's included, which keeps its answer.
        this.publish('changed', { customer_id: customerId, at: heardAt.toISOString() });
      }
    });
    this.timer = setInterval(() => this.beat(), this.config.streamHeartbeatMs);
    this.timer.unref();
  }

  /** Ends every stream at once, so that the HTTP server can close without waiting for them. */
  onModuleDestroy(): void {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    for (const client of this.clients) client.response.end();
    this.clients.clear();
  }

  get closing(): boolean {
    return this.stopped;
  }

  get connected(): number {
    return this.clients.size;
  }

  get stats(): Readonly<AccessStream['counts']> {
    return { ...this.counts };
  }

  /** The id of the latest event: what a client that has heard everything sends back. */
  get lastEventId(): string {
    return this.idOf(this.sequence);
  }

  /**
   * Starts streaming to `response` (headers already chosen by the caller): what the client missed
   * since `lastEventId` or a reset, then a heartbeat if the feed is live, then everything new.
   */
  open(response: ServerResponse, lastEventId: string | undefined): void {
    const client: StreamClient = { response, behindFor: 0 };
    response.write(`retry: ${RETRY_MS}\n\n`);
    const replay = this.replayAfter(lastEventId);
    if (typeof replay === 'string') {
      // Not added to the sequence: it is this client's alone. Its id is the latest event's, so
      // resuming from it replays only what comes after.
      this.counts.reset += 1;
      response.write(
        frame(this.lastEventId, 'reset', JSON.stringify({ reason: replay, at: this.now() })),
      );
    } else {
      for (const event of replay) response.write(event.frame);
    }
    this.clients.add(client);
    response.on('close', () => this.clients.delete(client));
    // After joining: a reset that looking at the feed publishes reaches this client too.
    if (this.live()) this.sendHeartbeat(client);
  }

  /** The events after `lastEventId`, or why they cannot be given. */
  private replayAfter(lastEventId: string | undefined): SequencedEvent[] | ResetReason {
    if (lastEventId === undefined || lastEventId === '') return 'new_stream';
    const separator = lastEventId.lastIndexOf(':');
    const instance = lastEventId.slice(0, separator);
    const text = lastEventId.slice(separator + 1);
    if (separator < 0 || instance !== this.instanceId || !/^\d{1,15}$/.test(text)) {
      return 'unknown_event_id';
    }
    const after = Number(text);
    if (after > this.sequence) return 'unknown_event_id';
    if (after < this.sequence - REPLAY_EVENTS) return 'events_expired';
    const events: SequencedEvent[] = [];
    for (let n = after + 1; n <= this.sequence; n += 1) {
      events.push(this.ring[n % REPLAY_EVENTS]!);
    }
    return events;
  }

  private publishReset(reason: ResetReason): void {
    this.publish('reset', { reason, at: this.now() });
  }

  private publish(type: 'changed' | 'reset', data: object): void {
    if (this.stopped) return;
    this.sequence += 1;
    const event = { n: this.sequence, frame: frame(this.idOf(this.sequence), type, data) };
    this.ring[event.n % REPLAY_EVENTS] = event;
    this.counts[type] += 1;
    for (const client of this.clients) this.write(client, event.frame);
  }

  /** Every tick: a heartbeat to every client if the feed is live, else a comment. */
  private beat(): void {
    for (const client of this.clients) {
      if (client.behindFor > 0 && ++client.behindFor > STALLED_PERIODS) {
        this.counts.cutOff += 1;
        this.logger.warn('A stream client stopped reading: disconnected (it resumes or resets)');
        this.clients.delete(client);
        client.response.destroy();
      }
    }
    if (!this.live()) {
      for (const client of this.clients) {
        if (!client.response.writableNeedDrain) this.write(client, ': change feed not live\n\n');
      }
      return;
    }
    for (const client of this.clients) this.sendHeartbeat(client);
  }

  /**
   * Whether heartbeats may be sent now. The feed announces its loss and its return as a change to
   * everything (a reset here); should it ever be seen back without one, the first heartbeat after
   * an outage seen here is still preceded by a reset.
   */
  private live(): boolean {
    const live = this.feed.live;
    if (live && !this.wasLive) this.publishReset('feed_interrupted');
    this.wasLive = live;
    return live;
  }

  /**
   * A heartbeat carries the latest event's id: a client resuming from it misses nothing. A client
   * whose socket is full gets none (it is behind anyway), so it goes stale rather than current.
   */
  private sendHeartbeat(client: StreamClient): void {
    if (client.response.writableNeedDrain) return;
    this.counts.heartbeat += 1;
    this.write(client, frame(this.lastEventId, 'heartbeat', { at: this.now() }));
  }

  /**
   * Writes unless the client is too far behind: then nothing more until it has read what waits,
   * and then a reset, which stands for everything left out. Heartbeats wait for it too.
   */
  private write(client: StreamClient, text: string): void {
    const { response } = client;
    if (response.writableEnded || response.destroyed) {
      this.clients.delete(client);
      return;
    }
    if (client.behindFor > 0) return;
    if (response.writableLength > MAX_UNREAD_BYTES) {
      this.counts.fellBehind += 1;
      client.behindFor = 1;
      response.once('drain', () => {
        client.behindFor = 0;
        this.counts.reset += 1;
        const data = { reason: 'fell_behind' satisfies ResetReason, at: this.now() };
        this.write(client, frame(this.lastEventId, 'reset', data));
      });
      return;
    }
    response.write(text);
  }

  private idOf(n: number): string {
    return `${this.instanceId}:${n}`;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

function frame(id: string, event: string, data: object | string): string {
  const body = typeof data === 'string' ? data : JSON.stringify(data);
  return `id: ${id}\nevent: ${event}\ndata: ${body}\n\n`;
}
