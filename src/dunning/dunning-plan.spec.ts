import { DAY_MS, daysOverdue } from '../billing/overdue';
import {
  DunningState,
  holdReason,
  isEmptyPlan,
  OpenInvoice,
  planDunning,
  warnedKey,
} from './dunning-plan';

const rules = { warnDays: [7, 21], holdDays: 30 };
const now = new Date('2027-06-01T12:00:00.000Z');
const dueDaysAgo = (days: number, hours = 0) =>
  new Date(now.getTime() - days * DAY_MS - hours * 3_600_000);
const invoice = (id: string, days: number): OpenInvoice => ({
  id,
  number: `INV-${id}`,
  dueAt: dueDaysAgo(days),
});
const state = (overrides: Partial<DunningState> = {}): DunningState => ({
  exempt: false,
  openInvoices: [],
  warned: new Set(),
  activeHolds: [],
  released: new Set(),
  ...overrides,
});

describe('the dunning rules', () => {
  it('counts whole days past due, 0 before the due date', () => {
    expect(daysOverdue(dueDaysAgo(7, 23), now)).toBe(7);
    expect(daysOverdue(dueDaysAgo(8), now)).toBe(8);
    expect(daysOverdue(new Date(now.getTime() + DAY_MS), now)).toBe(0);
    expect(daysOverdue(now, now)).toBe(0);
  });

  it('warns at the first step only, and holds nobody, 8 days past due', () => {
    const plan = planDunning(state({ openInvoices: [invoice('a', 8)] }), now, rules);
    expect(plan.warnings).toEqual([{ invoiceId: 'a', step: 7, daysOverdue: 8, send: true }]);
    expect(plan.place).toBeNull();
    expect(plan.lift).toBeNull();
  });

  it('does nothing before the first step nor for a step already reached', () => {
    expect(isEmptyPlan(planDunning(state({ openInvoices: [invoice('a', 6)] }), now, rules))).toBe(
      true,
    );
    const warned = new Set([warnedKey('a', 7)]);
    expect(
      isEmptyPlan(planDunning(state({ openInvoices: [invoice('a', 20)], warned }), now, rules)),
    ).toBe(true);
  });

  it('sends only the latest step reached at once, recording the earlier one as passed', () => {
    const plan = planDunning(state({ openInvoices: [invoice('a', 25)] }), now, rules);
    expect(plan.warnings).toEqual([
      { invoiceId: 'a', step: 7, daysOverdue: 25, send: false },
      { invoiceId: 'a', step: 21, daysOverdue: 25, send: true },
    ]);
  });

  it('places one hold for every invoice 30 or more days past due', () => {
    const invoices = [invoice('a', 31), invoice('b', 45), invoice('c', 10)];
    const warned = new Set(['a', 'b', 'c'].flatMap((id) => [7, 21].map((s) => warnedKey(id, s))));
    const plan = planDunning(state({ openInvoices: invoices, warned }), now, rules);
    expect(plan.place?.map((i) => i.id)).toEqual(['a', 'b']);
    expect(plan.warnings).toEqual([]);
  });

  it('keeps an active hold, recording an invoice that passed the threshold meanwhile', () => {
    const invoices = [invoice('a', 40), invoice('b', 30)];
    const activeHolds = [{ id: 'h', invoiceIds: ['a'] }];
    const plan = planDunning(
      state({
        openInvoices: invoices,
        activeHolds,
        warned: new Set(['a:7', 'a:21', 'b:7', 'b:21']),
      }),
      now,
      rules,
    );
    expect(plan).toEqual({
      warnings: [],
      place: null,
      cover: { holdId: 'h', invoiceIds: ['b'] },
      lift: null,
    });
  });

  it('lifts its hold once no open invoice is that late (a partly paid one still is)', () => {
    const activeHolds = [{ id: 'h', invoiceIds: ['a'] }];
    expect(planDunning(state({ activeHolds }), now, rules).lift).toEqual({
      holdIds: ['h'],
      cause: 'settled',
    });
    const stillLate = state({ activeHolds, openInvoices: [invoice('a', 35)] });
    expect(planDunning(stillLate, now, rules).lift).toBeNull();
    // 29 days past due (a new, younger invoice) is not that late.
    expect(
      planDunning(state({ activeHolds, openInvoices: [invoice('z', 29)] }), now, rules).lift,
    ).not.toBeNull();
  });

  it('never holds an exempt customer, and lifts the rules’ hold when it becomes exempt', () => {
    const late = [invoice('a', 50)];
    expect(planDunning(state({ exempt: true, openInvoices: late }), now, rules).place).toBeNull();
    expect(
      planDunning(
        state({ exempt: true, openInvoices: late, activeHolds: [{ id: 'h', invoiceIds: ['a'] }] }),
        now,
        rules,
      ).lift,
    ).toEqual({ holdIds: ['h'], cause: 'exempt' });
  });

  it('respects a person’s lift for the same invoices, not for a new one', () => {
    const released = new Set(['a']);
    expect(
      planDunning(state({ openInvoices: [invoice('a', 60)], released }), now, rules).place,
    ).toBeNull();
    const plan = planDunning(
      state({ openInvoices: [invoice('a', 60), invoice('b', 30)], released }),
      now,
      rules,
    );
    expect(plan.place?.map((i) => i.id)).toEqual(['a', 'b']);
  });

  it('names the invoices in the hold’s reason, oldest due first', () => {
    expect(holdReason([invoice('000002', 31), invoice('000001', 45)], now, 30)).toBe(
      'Invoices unpaid 30 or more days past due: INV-000001 (45 days past due), INV-000002 (31 days past due)',
    );
    const many = Array.from({ length: 25 }, (_, i) => invoice(String(i).padStart(6, '0'), 40));
    const reason = holdReason(many, now, 30);
    expect(reason).toMatch(/and 5 more$/);
    expect(reason.length).toBeLessThanOrEqual(1000);
  });
});
