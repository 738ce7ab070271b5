import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable, Logger } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';

const AFTER_COMMIT = Symbol('afterCommit');
type Callback = () => void;

/**
 * Runs a use case in one database transaction, and runs what must happen only once it is
 * committed (cache invalidations, events) after the commit, never before and never on rollback.
 * A run inside a run joins the outer transaction and its callbacks wait for the outer commit.
 *
 * Use this rather than the `@Transactional()` decorator: the decorator finds its
 * TransactionHost through a process-wide static, so with two app instances in one process (the
 * multi-instance tests) it would use the wrong one.
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger('UnitOfWork');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.txHost.isTransactionActive()) return fn();
    return this.cls.run({ ifNested: 'inherit' }, async () => {
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
  }

  /** Runs `callback` after the current transaction commits; at once when there is none. */
  afterCommit(callback: Callback): void {
    const callbacks = this.cls.isActive()
      ? this.cls.get<Callback[] | undefined>(AFTER_COMMIT)
      : undefined;
    if (callbacks && this.txHost.isTransactionActive()) callbacks.push(callback);
    else callback();
  }
}
