import { Client } from 'pg';
import { entryHash } from '../../src/audit/audit-chain-encoding';
import { CHAIN_COLUMNS, ChainRow, hashedFields } from '../../src/audit/audit-chain-rows';
import { AuditChainVerifier } from '../../src/audit/audit-chain-verifier';
import { createTestDatabase, TestDatabase } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/**
 * Issue 12: the chain's head is locked when an entry's transaction commits, not from its INSERT
 * to its end (migration 1795680000000-AuditChainSealAtCommit). An entry is inserted unsealed and
 * sealed (seq, prev_hash, created_at, hash) at the commit, by the database, whoever inserts.
 */

const INSERT = `INSERT INTO audit_logs (action, customer_id, actor_type, actor_name, reason, before, after)
                VALUES ('customer.disabled', $1, 'system', 'system', $2, '{}', '{}') RETURNING id`;

interface Sealed {
  id: string;
  seq: string | null;
  prev_hash: string | null;
  hash: string | null;
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

async function insert(client: Client, reason: string, customerId: string | null = null) {
  const { rows } = await client.query<{ id: string }>(INSERT, [customerId, reason]);
  return rows[0].id;
}

async function entry(client: Client, id: string): Promise<Sealed> {
  const { rows } = await client.query<Sealed>(
    'SELECT id, seq, prev_hash, hash FROM audit_logs WHERE id = $1',
    [id],
  );
  return rows[0];
}

async function headSeq(client: Client): Promise<number> {
  const { rows } = await client.query<{ seq: string }>('SELECT seq FROM audit_chain_head');
  return Number(rows[0].seq);
}

/** Every committed entry from `after` on, checked link by link and hash by hash. */
async function chainAfter(client: Client, after: number): Promise<ChainRow[]> {
  const { rows } = await client.query<ChainRow>(
    `SELECT ${CHAIN_COLUMNS} FROM audit_logs WHERE seq > $1 ORDER BY seq`,
    [after],
  );
  const { rows: before } = await client.query<{ hash: string }>(
    'SELECT hash FROM audit_logs WHERE seq = $1',
    [after],
  );
  rows.forEach((row, i) => {
    expect(Number(row.seq)).toBe(after + i + 1);
    expect(row.prev_hash).toBe(i === 0 ? (before[0]?.hash ?? '0'.repeat(64)) : rows[i - 1].hash);
    expect(entryHash(hashedFields(row))).toBe(row.hash);
    if (i > 0)
      expect(row.created_at.getTime()).toBeGreaterThanOrEqual(rows[i - 1].created_at.getTime());
  });
  return rows;
}

/**
 * The service's verifier, from `fromSeq` on: the embedded engine shares one database between test
 * files, whose tampering tests break its older entries on purpose.
 */
const verify = (client: Client, fromSeq: number) =>
  new AuditChainVerifier(
    async (sql, parameters) => (await client.query(sql, parameters)).rows,
    'no key',
  ).verify({ fromSeq });

describe('the audit chain, sealed at commit', () => {
  let database: TestDatabase;
  let app: Client;
  let other: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    // As the service's own role: it may only INSERT into audit_logs, and the seal still works.
    [app, other] = await Promise.all([connect(database.runtimeUrl), connect(database.runtimeUrl)]);
  });
  afterAll(async () => {
    await Promise.all([app?.end(), other?.end()]);
    await database.drop();
  });

  it('leaves an entry unsealed inside its transaction and seals it at the commit, whoever inserts', async () => {
    const start = await headSeq(app);
    await app.query('BEGIN');
    const id = await insert(app, 'inserted by SQL');
    // Inside its transaction: no seq, link or hash yet, and the head has not moved.
    expect(await entry(app, id)).toEqual({ id, seq: null, prev_hash: null, hash: null });
    expect(await headSeq(app)).toBe(start);
    await app.query('COMMIT');
    const [row] = await chainAfter(app, start);
    expect(row.id).toBe(id);
    expect(await headSeq(app)).toBe(start + 1);
    expect(await verify(app, start + 1)).toMatchObject({ ok: true });
  });

  it('seals the entries of one transaction one after the other, in the order they were inserted', async () => {
    const start = await headSeq(app);
    await app.query('BEGIN');
    const first = await insert(app, 'first');
    const [second, third] = (
      await app.query<{ id: string }>(
        `INSERT INTO audit_logs (action, actor_type, actor_name, reason, before, after)
         VALUES ('audit.exported', 'system', 'system', 'second', '{}', '{}'),
                ('audit.exported', 'system', 'system', 'third', '{}', '{}')
         RETURNING id`,
      )
    ).rows.map((r) => r.id);
    await app.query('COMMIT');
    expect((await chainAfter(app, start)).map((r) => r.id)).toEqual([first, second, third]);
  });

  it('consumes no seq for a transaction rolled back, nor for an entry of a rolled back savepoint', async () => {
    const start = await headSeq(app);
    await app.query('BEGIN');
    await insert(app, 'rolled back');
    await app.query('ROLLBACK');
    await app.query('BEGIN');
    await app.query('SAVEPOINT s');
    await insert(app, 'gone with its savepoint');
    await app.query('ROLLBACK TO SAVEPOINT s');
    const kept = await insert(app, 'kept');
    await app.query('COMMIT');
    expect((await chainAfter(app, start)).map((r) => r.id)).toEqual([kept]);
  });

  it('seals at the end of the statement, holding the head to the end, for a transaction that sets the constraint IMMEDIATE', async () => {
    const start = await headSeq(app);
    await app.query('BEGIN');
    await app.query('SET CONSTRAINTS audit_logs_seal IMMEDIATE');
    const id = await insert(app, 'immediate');
    expect(await entry(app, id)).toMatchObject({ seq: String(start + 1) });
    await app.query('COMMIT');
    expect((await chainAfter(app, start)).map((r) => r.id)).toEqual([id]);
  });

  it('takes seq, prev_hash and hash from the seal, whatever an INSERT says', async () => {
    const start = await headSeq(app);
    const { rows } = await app.query<{ id: string }>(
      `INSERT INTO audit_logs (seq, prev_hash, hash, action, actor_type, actor_name, before, after,
                               created_at)
       VALUES (999999, repeat('a', 64), repeat('b', 64), 'audit.exported', 'system', 'system',
               '{}', '{}', '2001-01-01T00:00:00Z')
       RETURNING id`,
    );
    const [row] = await chainAfter(app, start);
    expect(row.id).toBe(rows[0].id);
    expect(Date.now() - row.created_at.getTime()).toBeLessThan(60_000);
  });

  it('lets nobody seal or change an unsealed entry by hand, not even the owner', async () => {
    const owner = await connect(database.url);
    try {
      await app.query('BEGIN');
      const id = await insert(app, 'not yours to seal');
      // No UPDATE grant for the service's role (the embedded engine has only the owner's).
      await expect(app.query('UPDATE audit_logs SET seq = 1 WHERE id = $1', [id])).rejects.toThrow(
        /permission denied|append-only: UPDATE refused/,
      );
      await app.query('ROLLBACK');

      const start = await headSeq(owner);
      const { rows: head } = await owner.query<{ hash: string }>(
        'SELECT hash FROM audit_chain_head',
      );
      await owner.query('BEGIN');
      const mine = await insert(owner, 'the owner’s');
      // The very values the seal would write, but not from the seal: refused.
      await expect(
        owner.query(
          `UPDATE audit_logs SET seq = $2, prev_hash = $3, hash = repeat('f', 64) WHERE id = $1`,
          [mine, start + 1, head[0].hash],
        ),
      ).rejects.toThrow('audit_logs is append-only: UPDATE refused');
      await owner.query('ROLLBACK');
      expect(await headSeq(owner)).toBe(start);
    } finally {
      await owner.end();
    }
  });

  it('never commits an entry without its seq, link and hash', async () => {
    const { rows } = await app.query<{ unsealed: string }>(
      `SELECT count(*) AS unsealed FROM audit_logs
        WHERE seq IS NULL OR prev_hash IS NULL OR hash IS NULL`,
    );
    expect(rows[0].unsealed).toBe('0');
  });

  // PGlite runs one transaction at a time: transactions side by side need a PostgreSQL server.
  const onServer = onEmbeddedDatabase() ? describe.skip : describe;

  onServer('transactions side by side (needs a PostgreSQL server)', () => {
    it('lets another transaction write and commit its entry while one has written its own and not committed, and chains both in commit order', async () => {
      const start = await headSeq(app);
      await app.query('BEGIN');
      const slow = await insert(app, 'written first, committed last');

      // Before, the head was locked from the first INSERT to its commit: this waited for it.
      await other.query(`SET lock_timeout = '2s'`);
      await other.query('BEGIN');
      const fast = await insert(other, 'written second, committed first');
      await other.query('COMMIT');
      await other.query('RESET lock_timeout');

      const later = await insert(app, 'the slow one’s second entry');
      await app.query('COMMIT');
      const rows = await chainAfter(app, start);
      // Commit order; the slow transaction's two entries together, in their order.
      expect(rows.map((r) => r.id)).toEqual([fast, slow, later]);
      expect(await verify(app, start + 1)).toMatchObject({ ok: true });
    });

    it('makes a transaction that sealed IMMEDIATE hold the head to its end: the next commit waits for it', async () => {
      const start = await headSeq(app);
      await app.query('BEGIN');
      await app.query('SET CONSTRAINTS audit_logs_seal IMMEDIATE');
      const first = await insert(app, 'sealed at once');
      await other.query(`SET lock_timeout = '300ms'`);
      await other.query('BEGIN');
      await insert(other, 'waits for the head at its commit');
      await expect(other.query('COMMIT')).rejects.toThrow(/lock timeout/);
      await other.query('RESET lock_timeout');
      await app.query('COMMIT');
      // The commit that timed out consumed no seq.
      expect((await chainAfter(app, start)).map((r) => r.id)).toEqual([first]);
    });

    it('keeps one chain without gaps or forks, seq in commit order, through many concurrent transactions with rollbacks', async () => {
      const start = await headSeq(app);
      const clients = await Promise.all(
        Array.from({ length: 12 }, () => connect(database.runtimeUrl)),
      );
      const { rows: customers } = await app.query<{ id: string }>(
        `INSERT INTO customers (email)
         SELECT 'seal-' || n || '-' || gen_random_uuid() || '@example.com'
           FROM generate_series(1, 3) AS n RETURNING id`,
      );
      interface Done {
        ids: string[];
        startedAt: number;
        committedAt: number;
      }
      const committed: Done[] = [];
      const rolledBack: string[] = [];
      try {
        await Promise.all(
          clients.map(async (client, c) => {
            for (let i = 0; i < 15; i++) {
              const startedAt = performance.now();
              await client.query('BEGIN');
              const ids: string[] = [];
              for (let k = 0; k <= (c + i) % 2; k++) {
                ids.push(await insert(client, `c${c} t${i} e${k}`, customers[(c + i + k) % 3].id));
              }
              if ((c * 7 + i) % 5 === 0) {
                await client.query('ROLLBACK');
                rolledBack.push(...ids);
              } else {
                await client.query('COMMIT');
                committed.push({ ids, startedAt, committedAt: performance.now() });
              }
            }
          }),
        );
      } finally {
        await Promise.all(clients.map((client) => client.end()));
      }

      const rows = await chainAfter(app, start);
      const seqOf = new Map(rows.map((r) => [r.id, Number(r.seq)]));
      expect(rows).toHaveLength(committed.reduce((n, d) => n + d.ids.length, 0));
      for (const id of rolledBack) expect(seqOf.has(id)).toBe(false);
      for (const done of committed) {
        // A transaction's entries next to each other, in their order.
        const seqs = done.ids.map((id) => seqOf.get(id)!);
        seqs.forEach((seq, k) => expect(seq).toBe(seqs[0] + k));
      }
      // Whatever committed before another transaction began comes first in the chain.
      for (const a of committed) {
        for (const b of committed) {
          if (a.committedAt < b.startedAt) {
            expect(seqOf.get(a.ids[0])!).toBeLessThan(seqOf.get(b.ids[0])!);
          }
        }
      }
      // A customer's entries strictly increase in time.
      for (const customer of customers) {
        const times = rows
          .filter((r) => r.customer_id === customer.id)
          .map((r) => r.created_at.getTime());
        times.slice(1).forEach((time, i) => expect(time).toBeGreaterThan(times[i]));
      }
      expect(await verify(app, start + 1)).toMatchObject({ ok: true });
    });
  });
});
