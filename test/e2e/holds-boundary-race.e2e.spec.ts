import request from 'supertest';
import { createApiKey, TestApiKey } from '../support/api-keys';
import { createCustomer, signIn, StaffSession } from '../support/factories';
import { auditOf, HoldBody, iso, placeHold, sleep, TRANSITIONS } from '../support/holds';
import { startTestApp, TestApp } from '../support/test-app';
import { onEmbeddedDatabase } from '../support/test-env';

const CUSTOMERS = 10;
/** Lifts fired around each instant, this many ms from it, alternately on A and B. */
const AROUND_MS = [-20, -10, -3, 0, 3, 10, 20];

// Two instances on one database need a PostgreSQL server.
const describeOnPostgres = onEmbeddedDatabase() ? describe.skip : describe;

/**
 * Requests that land on a hold's instant, while the schedulers of two instances act on it too:
 * whoever wins, the log has each transition once, alternating, with the right actor and instant.
 */
describeOnPostgres('holds: lifts racing the scheduler at a boundary, on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let support: StaffSession;
  let reader: StaffSession;
  let platform: TestApiKey;

  beforeAll(async () => {
    a = await startTestApp();
    b = await startTestApp({}, { database: a.database });
    [support, reader] = await Promise.all([signIn(a, 'customer_support'), signIn(a, 'user')]);
    platform = await createApiKey(a);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  /**
   * Fires lifts of `hold` around `instant`, shifted by trial so that lifts win in some trials
   * and the instant in others; returns their answers.
   */
  async function liftsAround(hold: HoldBody, instant: number, trial: number) {
    const shift = (trial - CUSTOMERS / 2) * 12;
    return Promise.all(
      AROUND_MS.map(async (around, i) => {
        const offset = around + shift;
        await sleep(instant + offset - Date.now());
        const response = await request([a, b][i % 2].http)
          .post(`/api/v1/holds/${hold.id}/lift`)
          .set(support.header)
          .send({ reason: `lift at ${offset} ms` });
        return {
          status: response.status,
          code: response.body.code as string | undefined,
          arrived: Date.now(),
        };
      }),
    );
  }

  it('at a hold’s end: one customer.enabled, by the lift that won or by the system at the instant', async () => {
    const origin = Date.now() + 2_500;
    const trials = await Promise.all(
      Array.from({ length: CUSTOMERS }, async (_, i) => {
        const customer = await createCustomer(a);
        const endsAt = origin + i * 120;
        const hold = (
          await placeHold(a, customer.id, platform.header, {
            reason_code: 'other',
            ends_at: iso(endsAt),
          }).expect(201)
        ).body as HoldBody;
        return { customerId: customer.id, hold, endsAt };
      }),
    );
    expect(Date.now()).toBeLessThan(origin - 500);
    const answers = await Promise.all(trials.map((x, i) => liftsAround(x.hold, x.endsAt, i)));
    await sleep(1_200);

    const outcomes: string[] = [];
    for (const [i, trial] of trials.entries()) {
      const lifts = answers[i];
      expect(
        lifts
          .filter((x) => !(x.status === 200 || (x.status === 409 && x.code === 'hold_not_active')))
          .map((x) => [x.status, x.code]),
      ).toEqual([]);
      expect(lifts.filter((x) => x.status === 200).length).toBeLessThanOrEqual(1);
      const entries = await auditOf(a, trial.customerId, reader.header);
      const held = await request(a.http)
        .get(`/api/v1/customers/${trial.customerId}/holds`)
        .set(reader.header)
        .expect(200);
      const state = (held.body.data as HoldBody[])[0].state;
      const transitions = entries.filter((e) => TRANSITIONS.includes(e.action));
      expect(transitions.map((e) => e.action)).toEqual(['customer.disabled', 'customer.enabled']);
      const enabled = transitions[1];
      if (state === 'lifted') {
        // A lift won, before the instant: the user's transition, and no expiry.
        outcomes.push('lifted');
        expect(lifts.filter((x) => x.status === 200)).toHaveLength(1);
        expect(enabled.actor.type).toBe('user');
        expect(Date.parse(enabled.effective_at!)).toBeLessThan(trial.endsAt);
        expect(entries.map((e) => e.action)).not.toContain('hold.expired');
      } else {
        // The instant won: the system's transition at the instant, once; every lift refused.
        outcomes.push('expired');
        expect(state).toBe('expired');
        expect(lifts.filter((x) => x.status === 200)).toHaveLength(0);
        // Refused as not active: never while the hold still was.
        expect(lifts.filter((x) => x.arrived < trial.endsAt)).toEqual([]);
        expect(enabled).toMatchObject({
          actor: { type: 'system' },
          effective_at: iso(trial.endsAt),
        });
        expect(entries.filter((e) => e.action === 'hold.expired')).toHaveLength(1);
        expect(entries.map((e) => e.action)).not.toContain('hold.lifted');
      }
    }
    console.log(`lifts racing the end: ${JSON.stringify(outcomes)}`);
  });

  it('at a scheduled start: never disabled if a lift won, else disabled by the system at the instant and enabled by the lift', async () => {
    const origin = Date.now() + 2_500;
    const trials = await Promise.all(
      Array.from({ length: CUSTOMERS }, async (_, i) => {
        const customer = await createCustomer(a);
        const startsAt = origin + i * 120;
        const hold = (
          await placeHold(a, customer.id, platform.header, {
            reason_code: 'other',
            starts_at: iso(startsAt),
          }).expect(201)
        ).body as HoldBody;
        return { customerId: customer.id, hold, startsAt };
      }),
    );
    expect(Date.now()).toBeLessThan(origin - 500);
    const answers = await Promise.all(trials.map((x, i) => liftsAround(x.hold, x.startsAt, i)));
    await sleep(1_200);

    const outcomes: string[] = [];
    for (const [i, trial] of trials.entries()) {
      const lifts = answers[i];
      // A scheduled or active hold is lifted once; every later lift is refused.
      expect(lifts.filter((x) => x.status === 200)).toHaveLength(1);
      expect(lifts.filter((x) => x.status !== 200).every((x) => x.code === 'hold_not_active')).toBe(
        true,
      );
      const entries = await auditOf(a, trial.customerId, reader.header);
      const transitions = entries.filter((e) => TRANSITIONS.includes(e.action));
      const lifted = entries.find((e) => e.action === 'hold.lifted')!;
      if (transitions.length === 0) {
        outcomes.push('cancelled');
        expect(Date.parse(lifted.effective_at!)).toBeLessThan(trial.startsAt);
      } else {
        outcomes.push('started');
        expect(transitions.map((e) => [e.action, e.actor.type])).toEqual([
          ['customer.disabled', 'system'],
          ['customer.enabled', 'user'],
        ]);
        expect(transitions[0].effective_at).toBe(iso(trial.startsAt));
        expect(Date.parse(transitions[1].effective_at!)).toBeGreaterThanOrEqual(trial.startsAt);
      }
    }
    console.log(`lifts racing the start: ${JSON.stringify(outcomes)}`);
  });
});
