import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { countRows, signIn, StaffSession } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const code = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

describe('features and plans', () => {
  let t: TestApp;
  let manager: StaffSession;
  let reader: StaffSession;

  beforeAll(async () => {
    t = await startTestApp();
    manager = await signIn(t, 'account_manager');
    reader = await signIn(t, 'user');
  });
  afterAll(() => t.close());

  const createFeature = (body: object) =>
    request(t.http).post('/api/v1/features').set(manager.header).send(body);
  const createPlan = (body: object) =>
    request(t.http).post('/api/v1/plans').set(manager.header).send(body);
  const planBody = (features: string[], limits: Record<string, number> = {}) => ({
    code: code('plan'),
    name: 'Pro',
    amount: 4900,
    currency: 'EUR',
    interval: 'month',
    user_count: 5,
    features,
    limits,
  });

  describe('features', () => {
    it('creates a feature and lists features by code', async () => {
      const featureCode = code('a_feature');
      const response = await createFeature({ code: featureCode, name: ' API calls ' }).expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        code: featureCode,
        name: 'API calls',
        created_at: expect.any(String),
      });
      const list = await request(t.http)
        .get('/api/v1/features?limit=200')
        .set(reader.header)
        .expect(200);
      const codes = list.body.data.map((f: { code: string }) => f.code);
      expect(codes).toContain(featureCode);
      expect(codes).toEqual([...codes].sort());
    });

    it('refuses a feature code in use with 409 feature_exists and stores nothing', async () => {
      const featureCode = code('dup');
      await createFeature({ code: featureCode, name: 'Once' }).expect(201);
      const before = await countRows(t, ['features']);
      const response = await createFeature({ code: featureCode, name: 'Twice' }).expect(409);
      expect(response.body.code).toBe('feature_exists');
      expect(await countRows(t, ['features'])).toEqual(before);
    });

    it.each([
      [{ name: 'No code' }, 'code'],
      [{ code: 'Upper', name: 'x' }, 'code'],
      [{ code: 'has space', name: 'x' }, 'code'],
      [{ code: 'ok_code' }, 'name'],
      [{ code: 'ok_code', name: 'x', extra: 1 }, 'extra'],
    ])('refuses %j with 400 naming %s', async (body, field) => {
      const before = await countRows(t, ['features']);
      const response = await createFeature(body).expect(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, ['features'])).toEqual(before);
    });
  });

  describe('plans', () => {
    let calls: string;
    let sso: string;

    beforeAll(async () => {
      calls = (await createFeature({ code: code('calls'), name: 'API calls' }).expect(201)).body
        .code;
      sso = (await createFeature({ code: code('sso'), name: 'SSO' }).expect(201)).body.code;
    });

    it('creates a plan with its features and limits, and lists it', async () => {
      const body = planBody([sso, calls], { [calls]: 10000 });
      const response = await createPlan(body).expect(201);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        code: body.code,
        name: 'Pro',
        amount: 4900,
        currency: 'EUR',
        interval: 'month',
        user_count: 5,
        features: [calls, sso].sort(),
        limits: { [calls]: 10000 },
        created_at: expect.any(String),
      });
      const [{ grants }] = await t.db.query<{ grants: number }[]>(
        'SELECT count(*)::int AS grants FROM plan_features WHERE plan_id = $1',
        [response.body.id],
      );
      expect(grants).toBe(2);

      const page = await request(t.http).get('/api/v1/plans?limit=200').set(reader.header);
      expect(page.status).toBe(200);
      expect(page.body.data).toContainEqual(response.body);
    });

    it('pages plans by code', async () => {
      await createPlan(planBody([calls])).expect(201);
      await createPlan(planBody([])).expect(201);
      const first = await request(t.http).get('/api/v1/plans?limit=1').set(reader.header);
      const second = await request(t.http)
        .get(`/api/v1/plans?limit=1&cursor=${first.body.next_cursor}`)
        .set(reader.header)
        .expect(200);
      expect(first.body.data).toHaveLength(1);
      expect(second.body.data[0].code > first.body.data[0].code).toBe(true);
    });

    it('refuses a plan code in use with 409 plan_exists and stores nothing', async () => {
      const body = planBody([calls]);
      await createPlan(body).expect(201);
      const before = await countRows(t, ['plans', 'plan_features']);
      const response = await createPlan({ ...body, name: 'Again' }).expect(409);
      expect(response.body.code).toBe('plan_exists');
      expect(await countRows(t, ['plans', 'plan_features'])).toEqual(before);
    });

    it('refuses unknown features and limits of features the plan lacks with 400, storing nothing', async () => {
      const before = await countRows(t, ['plans', 'plan_features']);
      const response = await createPlan(planBody([calls, 'no_such_feature'], { [sso]: 3 })).expect(
        400,
      );
      expect(response.body.code).toBe('validation_failed');
      expect(response.body.errors).toEqual([
        { field: 'features', message: 'unknown feature codes: no_such_feature' },
        { field: 'limits', message: `not among the plan's features: ${sso}` },
      ]);
      expect(await countRows(t, ['plans', 'plan_features'])).toEqual(before);
    });

    it.each([
      ['a negative amount', { amount: -1 }, 'amount'],
      ['a fractional amount', { amount: 1.5 }, 'amount'],
      ['a lower-case currency', { currency: 'eur' }, 'currency'],
      ['a weekly interval', { interval: 'week' }, 'interval'],
      ['a negative user_count', { user_count: -2 }, 'user_count'],
      ['features not a list', { features: 'sso' }, 'features'],
      ['a repeated feature', { features: ['x_a', 'x_a'] }, 'features'],
      ['a negative limit', { limits: { x_a: -5 } }, 'limits'],
      ['a fractional limit', { limits: { x_a: 0.5 } }, 'limits'],
      ['limits as a list', { limits: [1] }, 'limits'],
    ])('refuses %s with 400 and stores nothing', async (_what, override, field) => {
      const before = await countRows(t, ['plans', 'plan_features']);
      const response = await createPlan({ ...planBody(['x_a']), ...override }).expect(400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await countRows(t, ['plans', 'plan_features'])).toEqual(before);
    });
  });
});
