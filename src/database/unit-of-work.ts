import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClsService } from 'nestjs-cls';

const AFTER_COMMIT = Symbol('afterCommit');
const SENT_WITH_COMMIT = Symbol('sentWithCommit');
type Callback = () => void;

/** A statement sent ahead of the commit, and what to do with its answer once committed. */
interface SentWithCommit {
  answer: Promise<unknown>;
  then: (answer: unknown) => void;
}

/**
 * The runs open in this process, all instances together (nestjs-cls keeps one AsyncLocalStorage
 * per process, shared by every app instance in it).
 */
let openRuns = 0;

/**
 * Runs a use case in one database transaction, and runs what must happen only once it is
 * committed (cache invalidations, events) after the commit, never before and never on rollback.
 * A run inside a run joins the outer transaction and its callbacks wait for the outer commit.
 * A use case's last write may go with the COMMIT in one round trip (`sendWithCommit`): the run
 * then fails if that write is refused, and hands its answer over once committed.
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
        const sent: SentWithCommit[] = [];
        this.cls.set(AFTER_COMMIT, callbacks);
        this.cls.set(SENT_WITH_COMMIT, sent);
        let result: T;
        try {
          result = await this.txHost.withTransaction(fn);
        } catch (error) {
          // A statement sent ahead that was refused: its refusal, not those of the statements
          // behind it (refused as the transaction had failed), is the use case's error.
          throw (await firstRefusal(sent)) ?? error;
        } finally {
          this.cls.set(AFTER_COMMIT, undefined);
          this.cls.set(SENT_WITH_COMMIT, undefined);
        }
        // Answered before the COMMIT was: refused, the COMMIT rolled the transaction back.
        const refusal = await firstRefusal(sent);
        if (refusal !== undefined) throw refusal;
        for (const { answer, then } of sent) {
          try {
            then(await answer);
          } catch (error) {
            this.logger.error(
              'Handling a committed statement’s answer failed',
              (error as Error).stack,
            );
          }
        }
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

  /**
   * Whether `sendWithCommit` can take a statement now: inside a run that opened its transaction
   * (not one opened around it some other way).
   */
  canSendWithCommit(): boolean {
    return this.sentWithCommit() !== undefined;
  }

  /**
   * A statement the use case has just sent on its transaction's connection (`sendInTransaction`)
   * and goes on without the answer of: the COMMIT follows it in the same round trip, or the use
   * case's next statements do. Once the transaction is committed, `then` gets the answer (before
   * any afterCommit callback runs). Refused, the statement fails the run with its error, and
   * the COMMIT behind it has rolled the transaction back (PostgreSQL ends a failed transaction
   * so) and no afterCommit callback runs. Only inside a run: see `canSendWithCommit`.
   */
  sendWithCommit<A>(answer: Promise<A>, then: (answer: A) => void): void {
    const sent = this.sentWithCommit();
    if (sent === undefined) {
      throw new Error('UnitOfWork.sendWithCommit() must run inside UnitOfWork.run()');
    }
    // Awaited by the run; until then a refusal is not an unhandled rejection.
    answer.catch(() => undefined);
    sent.push({ answer, then: then as (answer: unknown) => void });
  }

  /** Runs `callback` after the current transaction commits; at once when there is none. */
  afterCommit(callback: Callback): void {
    const callbacks = this.cls.isActive()
      ? this.cls.get<Callback[] | undefined>(AFTER_COMMIT)
      : undefined;
    if (callbacks && this.txHost.isTransactionActive()) callbacks.push(callback);
    else callback();
  }

  /** The statements sent with the commit of the run whose transaction is open; else undefined. */
  private sentWithCommit(): SentWithCommit[] | undefined {
    if (!this.cls.isActive() || !this.txHost.isTransactionActive()) return undefined;
    return this.cls.get<SentWithCommit[] | undefined>(SENT_WITH_COMMIT);
  }

  private closeRun(): void {
    openRuns -= 1;
    if (openRuns === 0) this.storage?.disable();
  }
}

/** The error of the first statement sent ahead that was refused; undefined when none was. */
async function firstRefusal(sent: readonly SentWithCommit[]): Promise<Error | undefined> {
  for (const { answer } of sent) {
    try {
      await answer;
    } catch (error) {
      return error instanceof Error
        ? error
        : new Error(`A statement was refused: ${String(error)}`);
    }
  }
  return undefined;
}
