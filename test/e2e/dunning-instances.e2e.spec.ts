import { SchedulerRegistry } from '@nestjs/schedule';
import { DunningScheduler } from '../../src/dunning/dunning-scheduler';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import {
  advanceToDaysOverdue,
  DunningCallers,
  DunningRunBody,
  InvoiceBody,
  issueInvoice,
  runDunning,
} from '../support/dunning';
import { eventually } from '../support/holds';
import { startTestApp, TestApp, TestClock } from '../support/test-app';

/**
 * Two instances of the service on one database and one clock: the rules place one hold and send
 * one warning per step whoever runs them, and the schedule runs on one instance at a time.
 */
describe('dunning on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let clock: TestClock;
  let developer: StaffSession;
  let callers: DunningCallers;

  beforeAll(async () => {
    clock = new TestClock();
    a = await startTestApp({}, { clock });
    b = await startTestApp({}, { database: a.database, clock });
    developer = await signIn(a, 'developer');
    callers = { developer: developer.header, manager: (await signIn(a, 'account_manager')).header };
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  /** Per invoice: its warnings by step, and per customer its overdue holds. */
  async function outcome(invoices: InvoiceBody[]) {
    const ids = invoices.map((i) => i.id);
    const customers = invoices.map((i) => i.customer_id);
    const warnings = await a.db.query<{ invoice_id: string; step: number; events: number }[]>(
      `SELECT w.invoice_id, w.step,
              (SELECT count(*)::int FROM events e
                WHERE e.type = 'invoice.overdue' AND e.data->'invoice'->>'id' = w.invoice_id::text
                  AND (e.data->>'step')::int = w.step) AS events
         FROM dunning_warnings w WHERE w.invoice_id = ANY($1::uuid[])`,
      [ids],
    );
    const holds = await a.db.query<{ customer_id: string; holds: number }[]>(
      `SELECT customer_id, count(*)::int AS holds FROM holds
        WHERE source = 'overdue' AND customer_id = ANY($1::uuid[]) GROUP BY customer_id`,
      [customers],
    );
    return { warnings, holds };
  }

  it('runs at once on both place one hold per customer and send one warning per invoice and step', async () => {
    const invoices: InvoiceBody[] = [];
    for (let i = 0; i < 8; i += 1) {
      const customer = await createCustomer(a);
      invoices.push(await issueInvoice(a, clock, callers, customer.id));
    }
    const last = invoices[invoices.length - 1];
    const both = async (): Promise<DunningRunBody[]> =>
      (await Promise.all([runDunning(a, developer.header), runDunning(b, developer.header)])).map(
        (response) => {
          expect(response.status).toBe(201);
          return response.body as DunningRunBody;
        },
      );

    advanceToDaysOverdue(clock, last, 8);
    let runs = await both();
    expect(runs[0].warnings_sent + runs[1].warnings_sent).toBeGreaterThanOrEqual(8);
    let seen = await outcome(invoices);
    expect(seen.warnings).toHaveLength(8);
    expect(seen.warnings.every((w) => w.step === 7 && w.events === 1)).toBe(true);

    advanceToDaysOverdue(clock, last, 22);
    await both();
    seen = await outcome(invoices);
    expect(seen.warnings).toHaveLength(16);
    expect(seen.warnings.every((w) => w.events === 1)).toBe(true);

    advanceToDaysOverdue(clock, last, 31);
    runs = await both();
    // At least: on the embedded engine every test file shares one database.
    expect(runs[0].holds_placed + runs[1].holds_placed).toBeGreaterThanOrEqual(8);
    seen = await outcome(invoices);
    expect(seen.holds).toHaveLength(8);
    expect(seen.holds.every((h) => h.holds === 1)).toBe(true);
    const [{ transitions }] = await a.db.query<{ transitions: number }[]>(
      `SELECT count(*)::int AS transitions FROM audit_logs
        WHERE action = 'customer.disabled' AND customer_id = ANY($1::uuid[])`,
      [invoices.map((i) => i.customer_id)],
    );
    expect(transitions).toBe(8);

    // And again on both: nothing more.
    runs = await both();
    expect(runs.map((r) => r.holds_placed + r.holds_lifted + r.warnings_sent)).toEqual([0, 0]);
  });

  it('runs the schedule on one instance at a time (a lease), and on the next tick again', async () => {
    const customer = await createCustomer(a);
    const invoice = await issueInvoice(a, clock, callers, customer.id);
    advanceToDaysOverdue(clock, invoice, 31);
    const ticks = await Promise.all([
      a.app.get(DunningScheduler).tick(),
      b.app.get(DunningScheduler).tick(),
    ]);
    const ran = ticks.filter((tick) => tick !== null);
    expect(ran).toHaveLength(1);
    expect(ran[0].holds_placed).toBeGreaterThanOrEqual(1);
    const [{ holds }] = await a.db.query<{ holds: number }[]>(
      `SELECT count(*)::int AS holds FROM holds WHERE source = 'overdue' AND customer_id = $1`,
      [customer.id],
    );
    expect(holds).toBe(1);
    // Released at the end: the other instance's next tick runs.
    const next = await b.app.get(DunningScheduler).tick();
    expect(next).toEqual(expect.objectContaining({ holds_placed: 0 }));
  });

  it('is off with DUNNING_CRON=off (as in these tests) and runs on DUNNING_CRON', async () => {
    expect(a.app.get(DunningScheduler).scheduled).toBe(false);
    const customer = await createCustomer(a);
    const invoice = await issueInvoice(a, clock, callers, customer.id);
    advanceToDaysOverdue(clock, invoice, 8);
    const scheduled = await startTestApp(
      { DUNNING_CRON: '* * * * * *' },
      { database: a.database, clock },
    );
    try {
      expect(scheduled.app.get(SchedulerRegistry).getCronJob('dunning-run')).toBeDefined();
      await eventually(
        async () => {
          const [{ warned }] = await a.db.query<{ warned: number }[]>(
            'SELECT count(*)::int AS warned FROM dunning_warnings WHERE invoice_id = $1',
            [invoice.id],
          );
          return warned > 0 ? warned : undefined;
        },
        5000,
        'a scheduled dunning run',
      );
    } finally {
      await scheduled.close();
    }
  });
});
