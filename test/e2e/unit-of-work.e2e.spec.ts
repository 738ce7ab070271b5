import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { sendInTransaction, Statement } from '../../src/database/statement';
import { UnitOfWork } from '../../src/database/unit-of-work';
import { socketWritesDuring } from '../support/socket-writes';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/**
 * On a server only: two transactions open at once need two connections (the embedded engine
 * serves one), and only there does the pool pipeline and hold a transaction's START back.
 */
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

  describe('statements sent with the commit, and the START sent with the first statement', () => {
    /** Refused when given 0. */
    const probe: Statement = { name: 'uow_probe', text: 'SELECT 1 / $1::int AS n' };
    const feature = () => `uow-${randomUUID()}`;
    const insertFeature = (code: string) =>
      txHost.tx.query('INSERT INTO features (code, name) VALUES ($1, $1)', [code]);
    const featureExists = async (code: string) =>
      (await t.db.query<unknown[]>('SELECT 1 FROM features WHERE code = $1', [code])).length > 0;
    /**
     * The writes to the database of `run`: each as the statements in it, by text (the probe also
     * by its name: a prepared statement is sent by name once parsed; unnamed on the embedded
     * engine).
     */
    const roundTrips = async (run: () => Promise<unknown>): Promise<string[][]> =>
      (await socketWritesDuring(t.database.url, run))
        .map(({ text }) =>
          [
            'START TRANSACTION',
            'INSERT INTO features',
            'uow_probe',
            'SELECT 1 AS one',
            'COMMIT',
            'ROLLBACK',
          ].filter(
            (statement) =>
              text.includes(statement) || (statement === 'uow_probe' && text.includes(probe.text)),
          ),
        )
        .filter((statements) => statements.length > 0);

    it('hands the answer over once committed, before the after-commit callbacks, in one round trip with the COMMIT', async () => {
      const code = feature();
      const seen: string[] = [];
      const trips = await roundTrips(() =>
        uow.run(async () => {
          uow.afterCommit(() => seen.push('after commit'));
          await insertFeature(code);
          uow.sendWithCommit(sendInTransaction<{ n: number }>(txHost.tx, probe, [1]), ({ rows }) =>
            seen.push(`answered ${rows[0].n} ${String(txHost.isTransactionActive())}`),
          );
          seen.push('use case done');
        }),
      );
      expect(seen).toEqual(['use case done', 'answered 1 false', 'after commit']);
      expect(await featureExists(code)).toBe(true);
      // The INSERT is not marked as one that writes nothing: it waits for the START's answer.
      // The embedded engine's pool does not pipeline: every statement waits for the one before.
      expect(trips).toEqual(
        onEmbeddedDatabase()
          ? [['START TRANSACTION'], ['INSERT INTO features'], ['uow_probe'], ['COMMIT']]
          : [['START TRANSACTION'], ['INSERT INTO features'], ['uow_probe', 'COMMIT']],
      );
    });

    it('fails the run with the refusal of a statement sent with the commit: nothing committed, no callback', async () => {
      const code = feature();
      const seen: string[] = [];
      await expect(
        uow.run(async () => {
          uow.afterCommit(() => seen.push('after commit'));
          await insertFeature(code);
          uow.sendWithCommit(sendInTransaction(txHost.tx, probe, [0]), () => seen.push('answered'));
        }),
      ).rejects.toThrow('division by zero');
      expect(seen).toEqual([]);
      expect(await featureExists(code)).toBe(false);
    });

    it('fails the run with that refusal, not with those of the statements behind it', async () => {
      const code = feature();
      await expect(
        uow.run(async () => {
          await insertFeature(code);
          uow.sendWithCommit(sendInTransaction(txHost.tx, probe, [0]), () => undefined);
          // Refused in turn: the transaction has failed.
          await txHost.tx.query('SELECT 1 AS one');
        }),
      ).rejects.toThrow('division by zero');
      expect(await featureExists(code)).toBe(false);
    });

    itOnServer(
      'sends nothing for a run that sent no statement, and waits for the START before a statement not marked for it',
      async () => {
        expect(await roundTrips(() => uow.run(() => Promise.resolve(1)))).toEqual([]);
        await expect(
          roundTrips(() =>
            uow.run(() => Promise.reject(new Error('refused before any statement'))),
          ),
        ).rejects.toThrow('refused before any statement');
        const code = feature();
        expect(await roundTrips(() => uow.run(() => insertFeature(code)))).toEqual([
          ['START TRANSACTION'],
          ['INSERT INTO features'],
          ['COMMIT'],
        ]);
        expect(await featureExists(code)).toBe(true);
      },
    );

    it('refuses a statement sent with the commit outside a run', () => {
      expect(uow.canSendWithCommit()).toBe(false);
      expect(() => uow.sendWithCommit(Promise.resolve(1), () => undefined)).toThrow(
        'must run inside UnitOfWork.run()',
      );
    });
  });
});
