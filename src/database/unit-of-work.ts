import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClsService } from 'nestjs-cls';

const AFTER_COMMIT = Symbol('afterCommit');
type Callback = () => void;

/**
 * The runs open in this process, all instances together (nestjs-cls keeps one AsyncLocalStorage
 * per process, shared by every app instance in it).
 */
let openRuns = 0;

/**
 * Runs a use case in one database transaction, and runs what must happen only once it is
 * committed (cache invalidations, events) after the commit, never before and never on rollback.
 * A run inside a run joins the outer transaction and its callbacks wait for the outer commit.
 *
 * Use this rather than the `@Transactional()` decorator: the decorator finds its
 * TransactionHost through a process-wide static, so with two app instances in one process (the
 * multi-instance tests) it would use the wrong one.
 *
 * The CLS context lives only while a run is open. An enabled AsyncLocalStorage turns on Node's
 * async hooks for the whole process: every promise, tick, timer and socket write of every
 * request then pays an init hook, the limits fast lane's too (bench/RESULTS.md). nestjs-cls
 * enables its storage when imported and never disables it; runs are its only user here, so the
 * storage is disabled while none is open (and `run` enables it again: AsyncLocalStorage.run
 * does). Nothing outside a run reads the context: outside one, `txHost.tx` is the plain
 * connection either way.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger('UnitOfWork');
  /** nestjs-cls's storage, to disable between runs; undefined if this nestjs-cls hides it. */
  private readonly storage: AsyncLocalStorage<unknown> | undefined;

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService,
  ) {
    const storage = (cls as unknown as { als?: unknown }).als;
    if (storage instanceof AsyncLocalStorage) {
      this.storage = storage;
      if (openRuns === 0) storage.disable();
    } else {
      this.logger.warn(
        "nestjs-cls's AsyncLocalStorage is not where UnitOfWork looks for it: async hooks stay " +
          'on between transactions (more CPU per request)',
      );
    }
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.txHost.isTransactionActive()) return fn();
    openRuns += 1;
    let running: Promise<T>;
    try {
      running = this.cls.run({ ifNested: 'inherit' }, async () => {
        const callbacks: Callback[] = [];
        this.cls.set(AFTER_COMMIT, callbacks);
        const result = await this.txHost.withTransaction(fn);
        this.cls.set(AFTER_COMMIT, undefined);
        for (const callback of callbacks) {
          try {
            callback();
          } catch (error) {
            this.logger.error('An after-commit callback failed', (error as Error).stack);
          }
        }
        return result;
      });
    } catch (error) {
      this.closeRun();
      throw error;
    }
    return running.finally(() => this.closeRun());
  }

  /** Runs `callback` after the current transaction commits; at once when there is none. */
  afterCommit(callback: Callback): void {
    const callbacks = this.cls.isActive()
      ? this.cls.get<Callback[] | undefined>(AFTER_COMMIT)
      : undefined;
    if (callbacks && this.txHost.isTransactionActive()) callbacks.push(callback);
    else callback();
  }

  private closeRun(): void {
    openRuns -= 1;
    if (openRuns === 0) this.storage?.disable();
  }
}
