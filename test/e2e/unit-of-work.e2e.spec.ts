import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { ClsService } from 'nestjs-cls';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/** Two transactions open at once need two connections: the embedded engine serves one. */
const itOnServer = onEmbeddedDatabase() ? it.skip : it;

/**
 * UnitOfWork keeps the CLS context (and with it Node's async hooks) on only while a run is open:
 * what is created between runs carries no context, and overlapping runs keep theirs whichever
 * ends first.
 */
describe('UnitOfWork', () => {
  let t: TestApp;
  let uow: UnitOfWork;
  let txHost: TransactionHost<TransactionalAdapterTypeOrm>;
  /** The marker nestjs-cls's storage puts on what is created while it is enabled. */
  let marker: symbol;

  beforeAll(async () => {
    t = await startTestApp();
    uow = t.app.get(UnitOfWork);
    txHost = t.app.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
    const cls: unknown = t.app.get(ClsService);
    const storage = (cls as { als: AsyncLocalStorage<unknown> }).als;
    marker = (storage as unknown as { kResourceStore: symbol }).kResourceStore;
    expect(typeof marker).toBe('symbol');
  });
  afterAll(() => t.close());

  /** Whether a timer created now gets the storage's context propagated to it. */
  const tracked = (): boolean => {
    const timer = setTimeout(() => undefined, 0);
    clearTimeout(timer);
    return Object.getOwnPropertySymbols(timer).includes(marker);
  };
  const transactionId = async (): Promise<string> => {
    const rows: { id: string }[] = await txHost.tx.query('SELECT txid_current()::text AS id');
    return rows[0].id;
  };

  it('tracks async resources only while a run is open', async () => {
    expect(tracked()).toBe(false);
    const inside = await uow.run(() => Promise.resolve(tracked()));
    expect(inside).toBe(true);
    expect(tracked()).toBe(false);
    // A run that fails closes too.
    await expect(uow.run(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(tracked()).toBe(false);
  });

  itOnServer(
    'keeps each of two overlapping runs in its own transaction, whichever ends first',
    async () => {
      let releaseFirst!: () => void;
      const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
      let firstEnded!: () => void;
      const firstHasEnded = new Promise<void>((resolve) => (firstEnded = resolve));

      const first = uow.run(async () => {
        const id = await transactionId();
        await firstMayEnd;
        return id;
      });
      const second = uow.run(async () => {
        const before = await transactionId();
        releaseFirst();
        await firstHasEnded;
        // The first run has closed: the second's context, and its transaction, are still here.
        expect(txHost.isTransactionActive()).toBe(true);
        expect(tracked()).toBe(true);
        return [before, await transactionId()];
      });
      const firstId = await first;
      firstEnded();
      const [secondBefore, secondAfter] = await second;
      expect(secondAfter).toBe(secondBefore);
      expect(secondBefore).not.toBe(firstId);
      expect(txHost.isTransactionActive()).toBe(false);
      expect(tracked()).toBe(false);
    },
  );

  it('runs an after-commit callback after the commit, outside the transaction', async () => {
    const seen: boolean[] = [];
    await uow.run(async () => {
      uow.afterCommit(() => seen.push(txHost.isTransactionActive()));
      expect(seen).toEqual([]);
      await transactionId();
    });
    expect(seen).toEqual([false]);
  });
});
