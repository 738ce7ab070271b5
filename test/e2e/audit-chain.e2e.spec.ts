import { execFile } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import request from 'supertest';
import { entryHash } from '../../src/audit/audit-chain-encoding';
import { CHAIN_COLUMNS, ChainRow, hashedFields } from '../../src/audit/audit-chain-rows';
import { AuditCheckpointScheduler } from '../../src/audit/audit-checkpoint-scheduler';
import { AUDIT_HASH_EXAMPLE, ENTRY } from '../support/audit-chain-example';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { disableCustomer, enableCustomer } from '../support/holds';
import { BURST_ENV, startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/**
 * Issue 13: the audit log as a hash chain (seq in commit order, prev_hash, hash), verified, signed,
 * exported and checked by an outside script, and found out when whoever holds the database's keys
 * edits, deletes or rewrites entries.
 */

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'verify-audit-export.mjs');
/** A fixed Ed25519 seed: every instance of a test signs with the same key, as in production. */
const SIGNING_KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');
const ENV = { AUDIT_SIGNING_KEY: SIGNING_KEY, AUDIT_CHECKPOINT_CRON: 'off' };
/**
 * Tests that need a chain of their own: they tamper with it (an edit, a deletion, a rewrite) or
 * export and verify it whole from seq 1. On the embedded engine every file shares one database,
 * so there they would break the chain every later file verifies: they run on a server only.
 */
const describeOwnChain = onEmbeddedDatabase() ? describe.skip : describe;
const run = promisify(execFile);

interface Sessions {
  admin: StaffSession;
  manager: StaffSession;
  support: StaffSession;
}

async function sessionsOf(t: TestApp): Promise<Sessions> {
  const [admin, manager, support] = await Promise.all([
    signIn(t, 'admin'),
    signIn(t, 'account_manager'),
    signIn(t, 'customer_support'),
  ]);
  return { admin, manager, support };
}

const chain = (t: TestApp) =>
  t.db.query<ChainRow[]>(`SELECT ${CHAIN_COLUMNS} FROM audit_logs ORDER BY seq`);

const head = async (t: TestApp) =>
  (await t.db.query<{ seq: string; hash: string }[]>('SELECT seq, hash FROM audit_chain_head'))[0];

const verifyChain = async (t: TestApp, s: Sessions, query = '') =>
  (await request(t.http).get(`/api/v1/audit-logs/verify${query}`).set(s.admin.header).expect(200))
    .body;

const checkpoint = async (t: TestApp, s: Sessions) =>
  (await request(t.http).post('/api/v1/audit-logs/checkpoints').set(s.admin.header).expect(201))
    .body as {
    seq: number;
    hash: string;
    signed_at: string;
    signature: string;
    key_id: string;
  };

/** Some history: customers disabled and enabled with reasons (each writes two entries). */
async function activity(t: TestApp, s: Sessions, customers = 3): Promise<void> {
  for (let i = 0; i < customers; i++) {
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, s.support.header, { reason: `Step ${i}` }).expect(200);
    await enableCustomer(t, customer.id, s.support.header, { reason: `Back ${i}` }).expect(200);
  }
}

/** One owner statement that switches the append-only trigger off only for its own work. */
const asOwnerWithoutTrigger = (t: TestApp, body: string) =>
  t.asOwner(`DO $$
    DECLARE e audit_logs%ROWTYPE; prev text;
    BEGIN
      ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_delete;
      ${body}
      ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_delete;
    END $$`);

describe('the audit hash chain', () => {
  describe('as written, on two instances', () => {
    let a: TestApp;
    let b: TestApp;
    let s: Sessions;

    beforeAll(async () => {
      // BURST_ENV: the 60 concurrent changes below.
      a = await startTestApp({ ...ENV, ...BURST_ENV });
      b = await startTestApp({ ...ENV, ...BURST_ENV }, { database: a.database });
      s = await sessionsOf(a);
    });
    afterAll(async () => {
      await b.close();
      await a.close();
    });

    it('numbers entries without a gap, links each to the previous one, and hashes them as the encoding says', async () => {
      await activity(a, s);
      const rows = await chain(a);
      expect(rows.length).toBeGreaterThan(6);
      rows.forEach((row, i) => {
        expect(Number(row.seq)).toBe(i + 1);
        expect(row.prev_hash).toBe(i === 0 ? '0'.repeat(64) : rows[i - 1].hash);
        expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
        // The database's hash (the trigger) is the TypeScript encoding's.
        expect(entryHash(hashedFields(row))).toBe(row.hash);
      });
      expect(await head(a)).toEqual({ seq: rows[rows.length - 1].seq, hash: rows.at(-1)!.hash });
      expect(await verifyChain(a, s)).toEqual({
        ok: true,
        checked: rows.length,
        from_seq: 1,
        to_seq: rows.length,
        head: { seq: rows.length, hash: rows.at(-1)!.hash },
        checkpoint: null,
      });
    });

    it('hashes the example of docs/audit-chain.md in SQL as the TypeScript encoding does', async () => {
      const [{ hash }] = await a.db.query<{ hash: string }[]>(
        `SELECT audit_entry_hash(jsonb_populate_record(NULL::audit_logs, $1::jsonb)) AS hash`,
        [
          JSON.stringify({
            ...ENTRY,
            seq: Number(ENTRY.seq),
            created_at: ENTRY.created_at,
          }),
        ],
      );
      expect(hash).toBe(AUDIT_HASH_EXAMPLE);
    });

    it('hashes any text the same in the database, the service and the script: quotes, line breaks, non-ASCII', async () => {
      const customer = await createCustomer(a);
      const reason = 'Fraud "check", line 1\nline 2\ttab, ünïcödé ☃ 🚀, \\back\\slash, =cmd()';
      await disableCustomer(a, customer.id, s.support.header, { reason }).expect(200);
      const [row] = await a.db.query<ChainRow[]>(
        `SELECT ${CHAIN_COLUMNS} FROM audit_logs WHERE customer_id = $1 AND action = 'hold.placed'`,
        [customer.id],
      );
      expect(row.reason).toBe(reason);
      expect(entryHash(hashedFields(row))).toBe(row.hash);
      expect((await verifyChain(a, s)).ok).toBe(true);
    });

    it('keeps one unbroken chain through 60 concurrent changes on two instances, each change’s entries together, in commit order', async () => {
      const customers = await Promise.all(Array.from({ length: 60 }, () => createCustomer(a)));
      const before = Number((await head(a)).seq);
      const responses = await Promise.all(
        customers.map((customer, i) =>
          disableCustomer(i % 2 === 0 ? a : b, customer.id, s.support.header, {
            reason: `Concurrent ${i}`,
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(customers.map(() => 200));

      const rows = (await chain(a)).filter((row) => Number(row.seq) > before);
      expect(rows).toHaveLength(120);
      rows.forEach((row, i) => {
        expect(Number(row.seq)).toBe(before + i + 1);
      });
      // A change's entries (its hold, then the transition) are sealed together at its commit:
      // nobody else's entry comes between them.
      for (const customer of customers) {
        const own = rows.filter((row) => row.customer_id === customer.id);
        expect(own.map((row) => row.action)).toEqual(['hold.placed', 'customer.disabled']);
        expect(Number(own[1].seq)).toBe(Number(own[0].seq) + 1);
        expect(own[1].prev_hash).toBe(own[0].hash);
      }
      // Time never goes back along the chain.
      const times = rows.map((row) => row.created_at.getTime());
      expect(times).toEqual([...times].sort((x, y) => x - y));
      const verified = await verifyChain(b, s);
      expect(verified).toMatchObject({ ok: true, checked: before + 120 });
    });

    it('takes seq, prev_hash, hash and created_at from the database, whatever an INSERT says', async () => {
      const [{ id }] = await a.db.query<{ id: string }[]>(
        `INSERT INTO audit_logs (seq, prev_hash, hash, action, actor_type, actor_name, before, after,
                                 created_at)
         VALUES (999999, repeat('a', 64), repeat('b', 64), 'audit.exported', 'system', 'system',
                 '{}', '{}', '2001-01-01T00:00:00Z')
         RETURNING id`,
      );
      // Sealed at its commit: read after it.
      const [inserted] = await a.db.query<{ seq: string; created_at: Date }[]>(
        'SELECT seq, created_at FROM audit_logs WHERE id = $1',
        [id],
      );
      const latest = await head(a);
      expect(inserted.seq).toBe(latest.seq);
      expect(Date.now() - inserted.created_at.getTime()).toBeLessThan(60_000);
      expect((await verifyChain(a, s)).ok).toBe(true);
    });

    it('makes a fork fail loudly: a second entry after the same one is refused (UNIQUE prev_hash, UNIQUE seq)', async () => {
      // As the owner with the chaining trigger off, a writer that read the head without its lock.
      const [last] = await chain(a).then((rows) => rows.slice(-1));
      await expect(
        a.asOwner(`DO $$ BEGIN
          ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_chain;
          INSERT INTO audit_logs (seq, prev_hash, hash, action, actor_type, actor_name, before, after)
          VALUES (${Number(last.seq) + 1}, '${last.prev_hash}', repeat('c', 64), 'audit.exported',
                  'system', 'system', '{}', '{}');
        END $$`),
      ).rejects.toThrow(/uq_audit_logs_prev_hash/);
      await expect(
        a.asOwner(`DO $$ BEGIN
          ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_chain;
          INSERT INTO audit_logs (seq, prev_hash, hash, action, actor_type, actor_name, before, after)
          VALUES (${last.seq}, repeat('d', 64), repeat('c', 64), 'audit.exported',
                  'system', 'system', '{}', '{}');
        END $$`),
      ).rejects.toThrow(/uq_audit_logs_seq/);
      expect((await verifyChain(a, s)).ok).toBe(true);
    });

    it('seals an entry found by its primary key, never by walking the unsealed entries of uq_audit_logs_seq', async () => {
      // The seal's UPDATE as the function states it, planned as PL/pgSQL plans it: NEW.id a
      // parameter, generic and custom plans. uq_audit_logs_seq holds a NULL for every entry's
      // unsealed first version until VACUUM, and a held snapshot keeps them all to be read.
      // Statistics as a service's table has them: many entries, every committed one sealed.
      await a.asOwner(
        `INSERT INTO audit_logs (action, actor_type, actor_name, before, after)
         SELECT 'audit.exported', 'system', 'system', '{}', '{}' FROM generate_series(1, 3000)`,
      );
      await a.asOwner('ANALYZE audit_logs');
      const [{ definition }] = await a.asOwner<{ definition: string }>(
        `SELECT pg_get_functiondef('audit_logs_seal'::regproc) AS definition`,
      );
      const where = /UPDATE audit_logs\s+SET seq = entry\.seq[^;]*?WHERE ([^;]+);/.exec(definition);
      expect(where).not.toBeNull();
      const client = new Client({ connectionString: a.database.url });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `PREPARE seal_update(uuid) AS
             UPDATE audit_logs SET seq = seq WHERE ${where![1].replace(/NEW\.id/g, '$1')}`,
        );
        for (const mode of ['force_generic_plan', 'force_custom_plan']) {
          await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN (COSTS OFF) EXECUTE seal_update('6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c')`,
          );
          const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
          expect(plan).toContain('Index Scan using pk_audit_logs');
          expect(plan).not.toContain('uq_audit_logs_seq');
        }
      } finally {
        await client.query('ROLLBACK');
        await client.end();
      }
    });

    it('keeps the head row, which every append locks, even against the owner', async () => {
      await expect(a.asOwner('DELETE FROM audit_chain_head')).rejects.toThrow(
        'audit_chain_head is append-only: DELETE refused',
      );
      await expect(a.asOwner('TRUNCATE audit_chain_head')).rejects.toThrow('TRUNCATE refused');
      await expect(
        a.db.query("INSERT INTO audit_chain_head (id, seq, hash) VALUES (false, 0, 'x')"),
      ).rejects.toThrow(/ck_audit_chain_head_one_row/);
      expect(Number((await head(a)).seq)).toBeGreaterThan(0);
    });

    it('signs the head on demand: Ed25519 over seq.hash.signed_at, checked with the published public key', async () => {
      const latest = await head(a);
      const signed = await checkpoint(a, s);
      expect(signed).toEqual({
        seq: Number(latest.seq),
        hash: latest.hash,
        signed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        signature: expect.any(String),
        kind: 'checkpoint',
        key_id: expect.stringMatching(/^[0-9a-f]{64}$/),
        public_key: expect.any(String),
      });
      const key = (
        await request(a.http).get('/api/v1/audit-logs/public-key').set(s.manager.header).expect(200)
      ).body;
      expect(key).toMatchObject({ algorithm: 'Ed25519', key_id: signed.key_id, ephemeral: false });
      const message = Buffer.from(`${signed.seq}.${signed.hash}.${signed.signed_at}`);
      const publicKey = createPublicKey(key.public_key_pem);
      expect(
        verifySignature(null, message, publicKey, Buffer.from(signed.signature, 'base64')),
      ).toBe(true);
      expect(
        verifySignature(
          null,
          Buffer.from(`${signed.seq}.${'0'.repeat(64)}.${signed.signed_at}`),
          publicKey,
          Buffer.from(signed.signature, 'base64'),
        ),
      ).toBe(false);
      // Verify now names it; the list gives it to the account manager.
      expect((await verifyChain(a, s)).checkpoint).toEqual({
        seq: signed.seq,
        hash: signed.hash,
        signed_at: signed.signed_at,
      });
      const listed = await request(a.http)
        .get('/api/v1/audit-logs/checkpoints')
        .set(s.manager.header)
        .expect(200);
      expect(listed.body.data[0]).toEqual(signed);
    });

    it('signs on the schedule once across instances, and not again while the head stays', async () => {
      await activity(a, s, 1);
      const count = async () =>
        Number(
          (await a.db.query<{ n: string }[]>('SELECT count(*) AS n FROM audit_checkpoints'))[0].n,
        );
      const before = await count();
      const outcomes = await Promise.all([
        a.app.get(AuditCheckpointScheduler).tick(),
        b.app.get(AuditCheckpointScheduler).tick(),
      ]);
      expect(await count()).toBe(before + 1);
      const signed = outcomes.find((o) => typeof o === 'object');
      expect(signed).toMatchObject({ seq: Number((await head(a)).seq) });
      expect(outcomes.filter((o) => typeof o === 'string')).toEqual([
        expect.stringMatching(/^(busy|unchanged)$/),
      ]);
      expect(await a.app.get(AuditCheckpointScheduler).tick()).toBe('unchanged');
      expect(await count()).toBe(before + 1);
    });

    it('refuses a range whose end comes before its start, and malformed bounds', async () => {
      for (const query of ['?from_seq=5&to_seq=4', '?from_seq=0', '?to_seq=x', '?from_seq=1.5']) {
        const response = await request(a.http)
          .get(`/api/v1/audit-logs/verify${query}`)
          .set(s.admin.header)
          .expect(400);
        expect(response.body.code).toBe('validation_failed');
      }
      const part = await verifyChain(a, s, '?from_seq=3&to_seq=7');
      expect(part).toMatchObject({ ok: true, checked: 5, from_seq: 3, to_seq: 7 });
    });
  });

  describeOwnChain('tampering by whoever holds the database’s keys', () => {
    let t: TestApp;
    let s: Sessions;

    beforeEach(async () => {
      t = await startTestApp(ENV);
      s = await sessionsOf(t);
      await activity(t, s, 4);
    });
    afterEach(() => t.close());

    /** An entry no note points at (a note's foreign key would keep it from being deleted). */
    const unreferencedSeq = async () =>
      Number(
        (
          await t.db.query<{ seq: string }[]>(
            `SELECT seq FROM audit_logs a
              WHERE seq > 3 AND NOT EXISTS (SELECT 1 FROM customer_notes n WHERE n.audit_log_id = a.id)
              ORDER BY seq LIMIT 1 OFFSET 2`,
          )
        )[0].seq,
      );

    it('names the seq of an entry edited with the trigger switched off', async () => {
      expect((await verifyChain(t, s)).ok).toBe(true);
      await asOwnerWithoutTrigger(
        t,
        `UPDATE audit_logs SET reason = 'nothing happened' WHERE seq = 6;`,
      );
      expect(await verifyChain(t, s)).toEqual({
        ok: false,
        first_broken_seq: 6,
        checked: 5,
        reason: 'hash_mismatch',
        detail: expect.any(String),
      });
      // And no checkpoint blesses it.
      const refused = await request(t.http)
        .post('/api/v1/audit-logs/checkpoints')
        .set(s.admin.header)
        .expect(409);
      expect(refused.body).toMatchObject({ code: 'audit_chain_broken' });
      expect(refused.body.detail).toContain('seq 6');
      expect(
        Number(
          (await t.db.query<{ n: string }[]>('SELECT count(*) AS n FROM audit_checkpoints'))[0].n,
        ),
      ).toBe(0);
    });

    it('names the seq of a deleted entry', async () => {
      const seq = await unreferencedSeq();
      await asOwnerWithoutTrigger(t, `DELETE FROM audit_logs WHERE seq = ${seq};`);
      expect(await verifyChain(t, s)).toMatchObject({
        ok: false,
        first_broken_seq: seq,
        reason: 'missing_entry',
      });
    });

    it('finds the latest entries deleted with the head moved back, by the checkpoint that signed them', async () => {
      const signed = await checkpoint(t, s);
      await t.asOwner(`DO $$ BEGIN
        ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_delete;
        UPDATE customer_notes SET audit_log_id = NULL
         WHERE audit_log_id IN (SELECT id FROM audit_logs WHERE seq > ${signed.seq - 2});
        DELETE FROM audit_logs WHERE seq > ${signed.seq - 2};
        UPDATE audit_chain_head SET seq = ${signed.seq - 2},
          hash = (SELECT hash FROM audit_logs WHERE seq = ${signed.seq - 2});
        ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_delete;
      END $$`);
      // The chain left is whole; the checkpoint says it went further.
      const verified = await verifyChain(t, s);
      expect(verified).toMatchObject({ ok: false, first_broken_seq: signed.seq - 1 });
    });

    it('finds a rewrite of the whole chain from some entry on, every hash recomputed, by the signed checkpoint', async () => {
      const signed = await checkpoint(t, s);
      const from = 5;
      await asOwnerWithoutTrigger(
        t,
        `UPDATE audit_logs SET reason = 'history, rewritten' WHERE seq = ${from};
         SELECT hash INTO prev FROM audit_logs WHERE seq = ${from - 1};
         FOR e IN SELECT * FROM audit_logs WHERE seq >= ${from} ORDER BY seq LOOP
           e.prev_hash := prev;
           prev := audit_entry_hash(e);
           UPDATE audit_logs SET prev_hash = e.prev_hash, hash = prev WHERE seq = e.seq;
         END LOOP;
         UPDATE audit_chain_head SET hash = prev;`,
      );
      // Every link and hash holds: without the checkpoint the rewrite would pass.
      expect(await verifyChain(t, s, `?to_seq=${signed.seq - 1}`)).toMatchObject({ ok: true });
      const rows = await chain(t);
      expect(rows.every((row) => entryHash(hashedFields(row)) === row.hash)).toBe(true);
      // The checkpoint's signed hash no longer matches: found.
      expect(await verifyChain(t, s)).toMatchObject({
        ok: false,
        first_broken_seq: signed.seq,
        reason: 'checkpoint_mismatch',
      });
    });

    it('finds a checkpoint whose signed hash was edited to match a rewrite', async () => {
      const signed = await checkpoint(t, s);
      await t.asOwner(`DO $$ BEGIN
        ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update_delete;
        UPDATE audit_checkpoints SET hash = repeat('e', 64);
        ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_no_update_delete;
      END $$`);
      expect(await verifyChain(t, s)).toMatchObject({
        ok: false,
        first_broken_seq: signed.seq,
        reason: 'checkpoint_signature_invalid',
      });
    });

    it('finds the oldest entries removed without a signed archive anchor', async () => {
      await t.asOwner(`DO $$ BEGIN
        UPDATE customer_notes SET audit_log_id = NULL
         WHERE audit_log_id IN (SELECT id FROM audit_logs WHERE seq <= 3);
        PERFORM set_config('customer_access.audit_archive_through', '3', true);
        DELETE FROM audit_logs WHERE seq <= 3;
      END $$`);
      expect(await verifyChain(t, s)).toMatchObject({
        ok: false,
        first_broken_seq: 4,
        reason: 'anchor_missing',
      });
    });

    it('lets nobody but the owner delete, even with the archive setting, and the owner only up to it', async () => {
      await expect(
        t.db.query(`DO $$ BEGIN
          PERFORM set_config('customer_access.audit_archive_through', '1000', true);
          DELETE FROM audit_logs WHERE seq = 2;
        END $$`),
      ).rejects.toThrow(/permission denied/);
      await expect(
        t.asOwner(`DO $$ BEGIN
          PERFORM set_config('customer_access.audit_archive_through', '1', true);
          DELETE FROM audit_logs WHERE seq = 2;
        END $$`),
      ).rejects.toThrow('audit_logs is append-only: DELETE refused');
      await expect(
        t.asOwner(`DO $$ BEGIN
          PERFORM set_config('customer_access.audit_archive_through', '1000', true);
          UPDATE audit_logs SET reason = 'x' WHERE seq = 2;
        END $$`),
      ).rejects.toThrow('audit_logs is append-only: UPDATE refused');
      expect((await verifyChain(t, s)).ok).toBe(true);
    });
  });

  describeOwnChain('export, and the outside verification script', () => {
    let t: TestApp;
    let s: Sessions;
    let dir: string;

    beforeAll(async () => {
      t = await startTestApp(ENV);
      s = await sessionsOf(t);
      dir = mkdtempSync(join(tmpdir(), 'audit-export-'));
      await activity(t, s, 3);
      const customer = await createCustomer(t);
      await disableCustomer(t, customer.id, s.support.header, {
        reason: 'A "quoted", multi-line\nreason, ünïcödé 🚀',
      }).expect(200);
    });
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      await t.close();
    });

    const exportOf = async (query: string) => {
      const response = await request(t.http)
        .get(`/api/v1/audit-logs/export${query}`)
        .set(s.manager.header)
        .buffer(true)
        .parse((res, callback) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => callback(null, text));
        })
        .expect(200);
      return { text: response.body as string, headers: response.headers };
    };

    const script = async (...args: string[]) =>
      run(process.execPath, [SCRIPT, ...args]).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          stdout: `${error.stdout}${error.stderr}`,
        }),
      );

    it('streams every entry oldest first as ndjson, with the hash fields and every hashed field, and records the export', async () => {
      const before = await chain(t);
      const { text, headers } = await exportOf('');
      expect(headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(headers['content-disposition']).toMatch(
        /^attachment; filename="audit-log_.*\.ndjson"$/,
      );
      const lines = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      // The export's own record is in it: written before the first line.
      expect(lines).toHaveLength(before.length + 1);
      expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
      expect(lines.at(-1)).toMatchObject({
        action: 'audit.exported',
        actor: { type: 'user', id: s.manager.user.id },
        after: { from: null, to: null, format: 'ndjson' },
      });
      expect(Object.keys(lines[0]).sort()).toEqual(
        [
          'seq',
          'prev_hash',
          'hash',
          'id',
          'created_at',
          'action',
          'customer_id',
          'target',
          'hold_id',
          'actor',
          'reason',
          'before',
          'after',
          'effective_at',
          'request_id',
          'ip',
          'user_agent',
        ].sort(),
      );
      expect(lines[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$/);
      expect(lines[0].prev_hash).toBe('0'.repeat(64));
    });

    it('exports a time range: from inclusive, to exclusive', async () => {
      const rows = await chain(t);
      const [from, to] = [rows[3].created_at.toISOString(), rows[8].created_at.toISOString()];
      const { text } = await exportOf(`?from=${from}&to=${to}`);
      const seqs = text
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { seq: number }).seq);
      const expected = rows
        .filter((r) => r.created_at.toISOString() >= from && r.created_at.toISOString() < to)
        .map((r) => Number(r.seq));
      expect(seqs).toEqual(expected);
      expect(seqs).toContain(4);
      expect(seqs).not.toContain(Number(rows[8].seq));
    });

    it('exports CSV: a header, then one RFC 4180 record an entry, null apart from the empty string', async () => {
      const { text, headers } = await exportOf('?format=csv');
      expect(headers['content-type']).toBe('text/csv; charset=utf-8');
      const records = parseCsv(text);
      expect(records[0]).toEqual([
        'seq',
        'prev_hash',
        'hash',
        'id',
        'created_at',
        'action',
        'customer_id',
        'target_type',
        'target_id',
        'hold_id',
        'actor_type',
        'actor_id',
        'actor_name',
        'reason',
        'before',
        'after',
        'effective_at',
        'request_id',
        'ip',
        'user_agent',
      ]);
      const rows = records.slice(1);
      expect(rows.map((r) => Number(r[0]))).toEqual(rows.map((_, i) => i + 1));
      const quoted = rows.find((r) => r[13]?.startsWith('A "quoted"'));
      expect(quoted?.[13]).toBe('A "quoted", multi-line\nreason, ünïcödé 🚀');
      // Each record recomputes to its hash from the CSV alone.
      for (const r of rows) {
        const nullable = (v: string | null) => v;
        expect(
          entryHash({
            seq: r[0]!,
            prev_hash: r[1]!,
            id: r[3]!,
            created_at: r[4]!,
            action: r[5]!,
            customer_id: nullable(r[6]),
            target_type: nullable(r[7]),
            target_id: nullable(r[8]),
            hold_id: nullable(r[9]),
            actor_type: r[10]!,
            actor_id: nullable(r[11]),
            actor_name: r[12]!,
            reason: nullable(r[13]),
            before: JSON.parse(r[14]!),
            after: JSON.parse(r[15]!),
            effective_at: nullable(r[16]),
            request_id: nullable(r[17]),
            ip: nullable(r[18]),
            user_agent: nullable(r[19]),
          }),
        ).toBe(r[2]);
      }
    });

    it('refuses a bad format or range with 400, recording nothing', async () => {
      const count = async () =>
        Number((await t.db.query<{ n: string }[]>('SELECT count(*) AS n FROM audit_logs'))[0].n);
      const before = await count();
      for (const query of [
        '?format=xml',
        '?from=yesterday',
        '?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      ]) {
        const response = await request(t.http)
          .get(`/api/v1/audit-logs/export${query}`)
          .set(s.manager.header)
          .expect(400);
        expect(response.body.code).toBe('validation_failed');
      }
      expect(await count()).toBe(before);
    });

    it('is verified by scripts/verify-audit-export.mjs with a checkpoint and the public key, and a tampered copy is not', async () => {
      const signed = await checkpoint(t, s);
      const key = (
        await request(t.http).get('/api/v1/audit-logs/public-key').set(s.manager.header).expect(200)
      ).body;
      const { text } = await exportOf('');
      const files = {
        export: join(dir, 'export.ndjson'),
        checkpoint: join(dir, 'checkpoint.json'),
        key: join(dir, 'key.pem'),
        tampered: join(dir, 'tampered.ndjson'),
        gap: join(dir, 'gap.ndjson'),
        forged: join(dir, 'forged.json'),
      };
      writeFileSync(files.export, text);
      writeFileSync(files.checkpoint, JSON.stringify(signed));
      writeFileSync(files.key, key.public_key_pem);

      const ok = await script(
        files.export,
        '--checkpoint',
        files.checkpoint,
        '--public-key',
        files.key,
      );
      const count = text.trimEnd().split('\n').length;
      expect(ok).toEqual({
        code: 0,
        stdout: expect.stringContaining(`OK: ${count} entries, seq 1..${count}`),
      });
      expect(ok.stdout).toContain('1 checkpoint(s) matched (signed by the trusted key)');

      // One reason edited in the file.
      const lines = text.trimEnd().split('\n');
      const edited = lines.map((line) => {
        const entry = JSON.parse(line);
        if (entry.seq === 5) entry.reason = 'nothing to see';
        return JSON.stringify(entry);
      });
      writeFileSync(files.tampered, `${edited.join('\n')}\n`);
      expect(await script(files.tampered, '--public-key', files.key)).toEqual({
        code: 1,
        stdout: expect.stringContaining('BROKEN at seq 5'),
      });

      // One line left out.
      writeFileSync(files.gap, `${lines.filter((_, i) => i !== 6).join('\n')}\n`);
      expect(await script(files.gap)).toEqual({
        code: 1,
        stdout: expect.stringContaining('BROKEN at seq 7'),
      });

      // A checkpoint whose hash was changed no longer verifies; nor one checked with another key.
      writeFileSync(files.forged, JSON.stringify({ ...signed, hash: 'f'.repeat(64) }));
      expect(
        await script(files.export, '--checkpoint', files.forged, '--public-key', files.key),
      ).toEqual({ code: 1, stdout: expect.stringContaining(`BROKEN at seq ${signed.seq}`) });
      const other = await startTestApp({
        AUDIT_SIGNING_KEY: OTHER_KEY,
        AUDIT_CHECKPOINT_CRON: 'off',
      });
      try {
        const otherKey = join(dir, 'other.pem');
        const otherAdmin = await signIn(other, 'admin');
        const otherPem = (
          await request(other.http).get('/api/v1/audit-logs/public-key').set(otherAdmin.header)
        ).body.public_key_pem as string;
        writeFileSync(otherKey, otherPem);
        expect(
          await script(files.export, '--checkpoint', files.checkpoint, '--public-key', otherKey),
        ).toEqual({ code: 1, stdout: expect.stringContaining('another key than the trusted one') });
      } finally {
        await other.close();
      }
      expect((await script(join(dir, 'missing.ndjson'))).code).toBe(2);
    });

    it('exports more entries than one batch in order, in batches', async () => {
      // 4,500 more entries, written the way the chain writes any: through the trigger.
      await t.db.query(
        `INSERT INTO audit_logs (action, actor_type, actor_name, before, after, reason)
         SELECT 'audit.exported', 'system', 'system', '{}', '{}', 'bulk ' || g
           FROM generate_series(1, 4500) g`,
      );
      const { text } = await exportOf('');
      const lines = text.trimEnd().split('\n');
      const rows = await chain(t);
      expect(lines.length).toBe(rows.length);
      const seqs = lines.map((line) => (JSON.parse(line) as { seq: number }).seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      writeFileSync(join(dir, 'big.ndjson'), text);
      expect((await script(join(dir, 'big.ndjson'))).code).toBe(0);
      expect((await verifyChain(t, s)).ok).toBe(true);
    });
  });
});

/** RFC 4180, enough for the test: quoted fields, doubled quotes, CRLF records; empty is null. */
function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else {
          value += text[i++];
        }
      }
      record.push(value);
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\r') end++;
      record.push(end === i ? null : text.slice(i, end));
      i = end;
    }
    if (text[i] === ',') {
      i++;
    } else if (text[i] === '\r' && text[i + 1] === '\n') {
      records.push(record);
      record = [];
      i += 2;
    }
  }
  return records;
}
