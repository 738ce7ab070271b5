import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { disableCustomer, enableCustomer } from '../support/holds';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

/**
 * `npm run audit:archive -- --out <file>`: the only way an audit entry leaves the table. Run here
 * as the service's operator would, in a process of its own (the command's source through
 * ts-node, which is what `npm run audit:archive` builds and runs), as the schema's owner.
 */

// Needs the owner and the runtime role as two roles, and a database of its own.
const describeOnServer = onEmbeddedDatabase() ? describe.skip : describe;

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'verify-audit-export.mjs');
const SIGNING_KEY = Buffer.alloc(32, 11).toString('base64');
const run = promisify(execFile);

interface Outcome {
  code: number;
  output: string;
}

const outcome = (promise: Promise<{ stdout: string; stderr: string }>): Promise<Outcome> =>
  promise.then(
    ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      output: `${error.stdout}${error.stderr}`,
    }),
  );

jest.setTimeout(120_000);

describeOnServer('the audit archive command', () => {
  let t: TestApp;
  let admin: StaffSession;
  let support: StaffSession;
  let dir: string;

  beforeAll(async () => {
    t = await startTestApp({ AUDIT_SIGNING_KEY: SIGNING_KEY, AUDIT_CHECKPOINT_CRON: 'off' });
    [admin, support] = await Promise.all([signIn(t, 'admin'), signIn(t, 'customer_support')]);
    dir = mkdtempSync(join(tmpdir(), 'audit-archive-'));
    for (let i = 0; i < 4; i++) {
      const customer = await createCustomer(t);
      await disableCustomer(t, customer.id, support.header, { reason: `Old ${i}` }).expect(200);
      await enableCustomer(t, customer.id, support.header, { reason: `Fixed ${i}` }).expect(200);
    }
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  /** The command, with the service's configuration but for what a test sets (undefined: unset). */
  const archive = (args: string[], overrides: Record<string, string | undefined> = {}) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: t.database.runtimeUrl,
      MIGRATION_DATABASE_URL: t.database.url,
      AUDIT_SIGNING_KEY: SIGNING_KEY,
      AUDIT_RETENTION_DAYS: '0',
      LOG_LEVEL: 'error',
      ...overrides,
    };
    for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
    return outcome(
      run(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js'),
          '--transpile-only',
          join(ROOT, 'src', 'audit', 'archive.command.ts'),
          ...args,
        ],
        { cwd: ROOT, env },
      ),
    );
  };

  const script = (...args: string[]) => outcome(run(process.execPath, [SCRIPT, ...args]));

  const seqs = async () =>
    (await t.db.query<{ seq: string }[]>('SELECT seq FROM audit_logs ORDER BY seq')).map((r) =>
      Number(r.seq),
    );

  const verify = async () =>
    (await request(t.http).get('/api/v1/audit-logs/verify').set(admin.header).expect(200)).body;

  const publicKeyFile = async () => {
    const key = (
      await request(t.http).get('/api/v1/audit-logs/public-key').set(admin.header).expect(200)
    ).body;
    const file = join(dir, 'key.pem');
    writeFileSync(file, key.public_key_pem);
    return file;
  };

  it('refuses to run without a file, or without the signing key, and changes nothing', async () => {
    const before = await seqs();
    expect(await archive([])).toEqual({ code: 2, output: expect.stringContaining('Usage:') });
    const noKey = await archive(['--out', join(dir, 'never.ndjson')], { AUDIT_SIGNING_KEY: '' });
    expect(noKey).toEqual({ code: 2, output: expect.stringContaining('AUDIT_SIGNING_KEY') });
    expect(existsSync(join(dir, 'never.ndjson'))).toBe(false);
    expect(await seqs()).toEqual(before);
  });

  it('keeps entries younger than AUDIT_RETENTION_DAYS', async () => {
    const before = await seqs();
    const young = await archive(['--out', join(dir, 'young.ndjson')], {
      AUDIT_RETENTION_DAYS: '400',
    });
    expect(young).toEqual({ code: 0, output: expect.stringContaining('nothing to archive') });
    expect(existsSync(join(dir, 'young.ndjson'))).toBe(false);
    expect(await seqs()).toEqual(before);
  });

  it('fails as the runtime role, which may not delete entries, and leaves no file and no anchor', async () => {
    const before = await seqs();
    const file = join(dir, 'runtime.ndjson');
    const refused = await archive(['--out', file, '--limit', '5'], {
      MIGRATION_DATABASE_URL: undefined,
    });
    expect(refused).toEqual({ code: 1, output: expect.stringContaining('permission denied') });
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.anchor.json`)).toBe(false);
    expect(await seqs()).toEqual(before);
    expect(await t.db.query('SELECT * FROM audit_checkpoints')).toEqual([]);
  });

  it('exports the oldest entries, signs an anchor, removes them, records it, and the rest stays verifiable', async () => {
    const notesBefore = await t.db.query<{ id: string }[]>(
      'SELECT id FROM customer_notes ORDER BY id',
    );
    const [{ n: linked }] = await t.db.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM customer_notes n JOIN audit_logs a ON a.id = n.audit_log_id
        WHERE a.seq <= 8`,
    );
    expect(Number(linked)).toBeGreaterThan(0);
    const file = join(dir, 'first.ndjson');
    const done = await archive(['--out', file, '--limit', '8']);
    expect(done).toEqual({
      code: 0,
      output: expect.stringContaining('Archived 8 audit entries (seq 1..8)'),
    });

    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    const anchor = JSON.parse(readFileSync(`${file}.anchor.json`, 'utf8'));
    expect(anchor).toMatchObject({
      kind: 'archive',
      seq: 8,
      hash: (JSON.parse(lines[7]) as { hash: string }).hash,
    });

    // Gone from the table, the anchor kept, and the removal itself is in the chain.
    const left = await seqs();
    expect(left[0]).toBe(9);
    expect(left).toEqual(left.map((_, i) => i + 9));
    const [recorded] = await t.db.query<{ action: string; actor_type: string; after: object }[]>(
      'SELECT action, actor_type, after FROM audit_logs ORDER BY seq DESC LIMIT 1',
    );
    expect(recorded).toEqual({
      action: 'audit.archived',
      actor_type: 'system',
      after: {
        from_seq: 1,
        through_seq: 8,
        through_hash: anchor.hash,
        entries: 8,
        file: 'first.ndjson',
      },
    });
    expect(
      await t.db.query('SELECT kind, seq, hash FROM audit_checkpoints WHERE kind = $1', [
        'archive',
      ]),
    ).toEqual([{ kind: 'archive', seq: '8', hash: anchor.hash }]);
    // Notes outlive the entries they were written with: the text stays, the link goes.
    expect(await t.db.query<{ id: string }[]>('SELECT id FROM customer_notes ORDER BY id')).toEqual(
      notesBefore,
    );

    // The service verifies what is left from the anchor; the script, the file against it.
    expect(await verify()).toMatchObject({ ok: true, from_seq: 9, checked: left.length });
    const key = await publicKeyFile();
    const checked = await script(file, '--checkpoint', `${file}.anchor.json`, '--public-key', key);
    expect(checked).toEqual({
      code: 0,
      output: expect.stringContaining('OK: 8 entries, seq 1..8'),
    });

    // And an export of what is left links to the anchor, from the outside too.
    const exported = await request(t.http)
      .get('/api/v1/audit-logs/export')
      .set(admin.header)
      .buffer(true)
      .parse((res, callback) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => callback(null, text));
      })
      .expect(200);
    writeFileSync(join(dir, 'rest.ndjson'), exported.body as string);
    const rest = await script(
      join(dir, 'rest.ndjson'),
      '--checkpoint',
      `${file}.anchor.json`,
      '--public-key',
      key,
    );
    expect(rest).toEqual({ code: 0, output: expect.stringContaining('OK:') });
    expect(rest.output).toContain('1 checkpoint(s) matched');

    // Writing goes on after the anchor.
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header, { reason: 'After' }).expect(200);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('will not overwrite a file, and archives everything old enough without --limit', async () => {
    const file = join(dir, 'first.ndjson');
    const before = await seqs();
    expect(await archive(['--out', file])).toEqual({
      code: 1,
      output: expect.stringContaining('exists'),
    });
    expect(await seqs()).toEqual(before);

    const all = join(dir, 'second.ndjson');
    const done = await archive(['--out', all]);
    expect(done.code).toBe(0);
    expect(done.output).toContain(`(seq ${before[0]}..${before.at(-1)})`);
    // Only the record of this run is left, and it still verifies from the new anchor.
    expect(await seqs()).toEqual([before.at(-1)! + 1]);
    expect(await verify()).toMatchObject({ ok: true, checked: 1 });
    const key = await publicKeyFile();
    expect(
      await script(all, '--checkpoint', `${all}.anchor.json`, '--public-key', key),
    ).toMatchObject({ code: 0 });
  });

  it('refuses to archive a broken chain, deleting nothing', async () => {
    const customer = await createCustomer(t);
    await disableCustomer(t, customer.id, support.header, { reason: 'To break' }).expect(200);
    const target = (await seqs()).at(-1)!;
    await t.asOwner(`DO $$ BEGIN
      ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update_delete;
      UPDATE audit_logs SET reason = 'edited' WHERE seq = ${target};
      ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update_delete;
    END $$`);
    const before = await seqs();
    const file = join(dir, 'broken.ndjson');
    expect(await archive(['--out', file])).toEqual({
      code: 1,
      output: expect.stringContaining(`broken at seq ${target}`),
    });
    expect(existsSync(file)).toBe(false);
    expect(await seqs()).toEqual(before);
  });
});
