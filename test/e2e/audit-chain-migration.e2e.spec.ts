import { AuditChain1795660000000 } from '../../migrations/1795660000000-AuditChain';
import { AuditChainSealAtCommit1795680000000 } from '../../migrations/1795680000000-AuditChainSealAtCommit';
import { AuditEntryHashPlanned1795690000000 } from '../../migrations/1795690000000-AuditEntryHashPlanned';
import { entryHash, GENESIS_HASH } from '../../src/audit/audit-chain-encoding';
import { CHAIN_COLUMNS, ChainRow, hashedFields } from '../../src/audit/audit-chain-rows';
import { AuditChainVerifier } from '../../src/audit/audit-chain-verifier';
import { migrated, migrationsBefore, undoThrough, withUpgraded } from '../support/migration-steps';
import { createTestDatabase, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

// Needs a database of its own, migrated step by step: only on a PostgreSQL server.
const describeOnServer = onEmbeddedDatabase() ? describe.skip : describe;

describeOnServer(
  'the AuditChain migration (needs an empty database: skipped on the embedded engine)',
  () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase({ empty: true });
    });
    afterAll(() => database.drop());

    it('chains the entries written before it in (created_at, id) order, and the chain goes on from them', async () => {
      const before = await migrated(database.url, migrationsBefore(AuditChain1795660000000));
      const [customer] = await before.query<{ id: string }[]>(
        `INSERT INTO customers (email) VALUES ('old@example.com') RETURNING id`,
      );
      // Three old entries, two in the same millisecond (their ids then decide), one with a
      // reason full of what an encoding can get wrong.
      const old = await before.query<{ id: string }[]>(
        `INSERT INTO audit_logs (id, action, customer_id, actor_type, actor_id, actor_name, reason,
                                 before, after, created_at)
         VALUES ('00000000-0000-4000-8000-00000000000b', 'customer.disabled', $1, 'user',
                 gen_random_uuid(), 'Old Admin', 'Unpaid, "twice"\nü 🚀', '{"status":"enabled"}',
                 '{"status":"disabled"}', '2025-01-01T00:00:00.123Z'),
                ('00000000-0000-4000-8000-00000000000a', 'customer.enabled', $1, 'system', NULL,
                 'system', NULL, '{"status":"disabled"}', '{"status":"enabled"}',
                 '2025-01-01T00:00:00.123Z'),
                ('00000000-0000-4000-8000-000000000001', 'hold.placed', $1, 'api_key',
                 gen_random_uuid(), 'Key', NULL, '{"state":null}', '{"state":"active"}',
                 '2025-02-01T00:00:00Z')
         RETURNING id`,
        [customer.id],
      );
      expect(old).toHaveLength(3);
      await before.destroy();

      await withUpgraded(database.url, async (after) => {
        const rows = await after.query<ChainRow[]>(
          `SELECT ${CHAIN_COLUMNS} FROM audit_logs ORDER BY seq`,
        );
        expect(rows.map((r) => [r.seq, r.id])).toEqual([
          ['1', '00000000-0000-4000-8000-00000000000a'],
          ['2', '00000000-0000-4000-8000-00000000000b'],
          ['3', '00000000-0000-4000-8000-000000000001'],
        ]);
        expect(rows[0].prev_hash).toBe(GENESIS_HASH);
        expect(rows[1].prev_hash).toBe(rows[0].hash);
        expect(rows[2].prev_hash).toBe(rows[1].hash);
        for (const row of rows) expect(entryHash(hashedFields(row))).toBe(row.hash);
        expect(await after.query('SELECT seq, hash, created_at FROM audit_chain_head')).toEqual([
          { seq: '3', hash: rows[2].hash, created_at: rows[2].created_at },
        ]);

        // A new entry goes on from the head, never before the last one's time.
        await after.query(
          `INSERT INTO audit_logs (action, actor_type, actor_name, before, after)
           VALUES ('audit.exported', 'system', 'system', '{}', '{}')`,
        );
        const verifier = new AuditChainVerifier(
          (sql, parameters) => after.query(sql, parameters),
          'no key',
        );
        expect(await verifier.verify()).toMatchObject({ ok: true, checked: 4 });
      });
    });
  },
);

describeOnServer(
  'the AuditChainSealAtCommit migration (needs an empty database: skipped on the embedded engine)',
  () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase({ empty: true });
    });
    afterAll(() => database.drop());

    const appendAll = (db: { query: (sql: string) => Promise<unknown> }, reasons: string[]) =>
      db.query(
        `INSERT INTO audit_logs (action, actor_type, actor_name, reason, before, after)
         VALUES ${reasons.map((r) => `('audit.exported', 'system', 'system', '${r}', '{}', '{}')`).join(', ')}`,
      );

    it('goes on from a chain written under the lock held to the end, seals new entries at commit, and still verifies', async () => {
      const before = await migrated(
        database.url,
        migrationsBefore(AuditChainSealAtCommit1795680000000),
      );
      // A chain as the previous trigger wrote it: sealed at the INSERT, in its statement.
      await appendAll(before, ['old 1', 'old 2']);
      await appendAll(before, ['old 3']);
      const [sealedAtInsert] = await before.query<{ seq: string | null }[]>(
        `INSERT INTO audit_logs (action, actor_type, actor_name, before, after)
         VALUES ('audit.exported', 'system', 'system', '{}', '{}') RETURNING seq`,
      );
      expect(sealedAtInsert.seq).toBe('4');
      await before.destroy();

      await withUpgraded(database.url, async (after) => {
        const runner = after.createQueryRunner();
        await runner.connect();
        try {
          await runner.startTransaction();
          const [unsealed] = (await runner.query(
            `INSERT INTO audit_logs (action, actor_type, actor_name, before, after)
             VALUES ('audit.exported', 'system', 'system', '{}', '{}') RETURNING id, seq`,
          )) as { seq: string | null; id: string }[];
          // Unsealed until the commit now.
          expect(unsealed.seq).toBeNull();
          await runner.commitTransaction();
        } finally {
          await runner.release();
        }
        await appendAll(after, ['new 2', 'new 3']);

        const rows = await after.query<ChainRow[]>(
          `SELECT ${CHAIN_COLUMNS} FROM audit_logs ORDER BY seq`,
        );
        expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7]);
        rows.forEach((row, i) => {
          expect(row.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1].hash);
          expect(entryHash(hashedFields(row))).toBe(row.hash);
        });
        expect(rows.map((r) => r.reason).slice(5)).toEqual(['new 2', 'new 3']);
        const verifier = new AuditChainVerifier(
          (sql, parameters) => after.query(sql, parameters),
          'no key',
        );
        expect(await verifier.verify()).toMatchObject({ ok: true, checked: 7 });

        // And back: the lock held to the end again, the chain going on unbroken.
        await undoThrough(after, AuditChainSealAtCommit1795680000000);
        const [atInsert] = await after.query<{ seq: string | null }[]>(
          `INSERT INTO audit_logs (action, actor_type, actor_name, before, after)
           VALUES ('audit.exported', 'system', 'system', '{}', '{}') RETURNING seq`,
        );
        expect(atInsert.seq).toBe('8');
        expect(await verifier.verify()).toMatchObject({ ok: true, checked: 8 });
      });
    });
  },
);

describeOnServer(
  'the AuditEntryHashPlanned migration (needs an empty database: skipped on the embedded engine)',
  () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase({ empty: true });
    });
    afterAll(() => database.drop());

    // What an encoding can get wrong: NULLs, multi-byte text, nested and reordered JSON, times.
    const append = (
      db: { query: (sql: string, parameters?: unknown[]) => Promise<unknown> },
      reason: string,
    ) =>
      db.query(
        `INSERT INTO audit_logs (action, customer_id, actor_type, actor_id, actor_name, reason,
                                 before, after, effective_at, request_id, ip, user_agent)
         VALUES ('customer.disabled', gen_random_uuid(), 'user', gen_random_uuid(), 'Zoë "Ops"',
                 $1, '{"z":1,"a":{"y":[1,"ü",null],"b":true}}', '{"status":"disabled"}',
                 '2026-11-27T09:00:00.5Z', 'req-1', '203.0.113.9', 'Mozilla/5.0 🚀')`,
        [reason],
      );
    const hashesOf = (db: { query: (sql: string) => Promise<unknown> }) =>
      db.query(
        `SELECT seq, hash, audit_entry_hash(a) AS again FROM audit_logs a ORDER BY seq`,
      ) as Promise<{ seq: string; hash: string; again: string }[]>;

    it('hashes every entry as before, old and new, and the chain still verifies both ways', async () => {
      const before = await migrated(
        database.url,
        migrationsBefore(AuditEntryHashPlanned1795690000000),
      );
      await append(before, 'sealed by the SQL function');
      await append(before, 'again, ünïcödé');
      const old = await hashesOf(before);
      await before.destroy();

      await withUpgraded(database.url, async (after) => {
        const [{ language }] = await after.query<{ language: string }[]>(
          `SELECT l.lanname AS language FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.proname = 'audit_entry_hash'`,
        );
        expect(language).toBe('plpgsql');
        // The new function gives the entries sealed by the old one their own hashes back.
        expect(await hashesOf(after)).toEqual(old.map((row) => ({ ...row, again: row.hash })));
        await append(after, 'sealed by the PL/pgSQL function');
        await append(after, "with a NULL-free 'quote'");
        const rows = await after.query<ChainRow[]>(
          `SELECT ${CHAIN_COLUMNS} FROM audit_logs ORDER BY seq`,
        );
        expect(rows).toHaveLength(4);
        rows.forEach((row, i) => {
          expect(row.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1].hash);
          // The service's own encoder (the verifier's) agrees with the database's.
          expect(entryHash(hashedFields(row))).toBe(row.hash);
        });
        const verifier = new AuditChainVerifier(
          (sql, parameters) => after.query(sql, parameters),
          'no key',
        );
        expect(await verifier.verify()).toMatchObject({ ok: true, checked: 4 });

        await undoThrough(after, AuditEntryHashPlanned1795690000000);
        await append(after, 'sealed by the SQL function again');
        const back = await hashesOf(after);
        expect(back).toHaveLength(5);
        for (const row of back) expect(row.again).toBe(row.hash);
        expect(await verifier.verify()).toMatchObject({ ok: true, checked: 5 });
      });
    });
  },
);
