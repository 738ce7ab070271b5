import { Metrics } from './metrics';

const LABELS = { method: 'GET', route: '/api/v1/customers/:id/limits', status: '200' };
/** Below, on and between the bounds, past the last one, and the same value twice. */
const DURATIONS = [0.0001, 0.001, 0.0011, 0.003, 0.003, 0.07, 9.5, 10, 12];

/** The exposition of `name`'s lines, without the help and type lines. */
async function series(metrics: Metrics, name: string): Promise<string[]> {
  return (await metrics.render()).split('\n').filter((line) => line.startsWith(name));
}

/** A histogram's lines, its sum to 12 digits (added in another order, it may differ past them). */
async function histogram(metrics: Metrics): Promise<string[]> {
  return (await series(metrics, 'http_request_duration_seconds')).map((line) => {
    const [name, value] = line.split('} ');
    return name.includes('_sum{') ? `${name}} ${Number(value).toPrecision(12)}` : line;
  });
}

describe('Metrics, counts kept in plain numbers on a hot path', () => {
  const made: Metrics[] = [];
  const metrics = () => {
    const m = new Metrics();
    made.push(m);
    return m;
  };
  afterAll(() => made.forEach((m) => m.stop()));

  it('render the histogram as if each duration had been observed by prom-client', async () => {
    const reference = metrics();
    const hot = metrics();
    const observations = hot.hotRequestDurations(LABELS);
    for (const [at, seconds] of DURATIONS.entries()) {
      reference.httpRequestDuration.observe(LABELS, seconds);
      // Mixed: the same series observed directly too (the route's answers through Fastify).
      if (at % 3 === 0) hot.httpRequestDuration.observe(LABELS, seconds);
      else observations.observe(seconds);
    }
    const expected = await histogram(reference);
    expect(expected.some((line) => line.endsWith(` ${DURATIONS.length}`))).toBe(true);
    expect(await histogram(hot)).toEqual(expected);
    // Read twice: nothing counted twice.
    expect(await histogram(hot)).toEqual(expected);
    observations.observe(0.002);
    reference.httpRequestDuration.observe(LABELS, 0.002);
    expect(await histogram(hot)).toEqual(await histogram(reference));
  });

  it('make the series at its first read, not before anything was observed', async () => {
    const hot = metrics();
    hot.hotRequestDurations(LABELS);
    expect(await series(hot, 'http_request_duration_seconds_count')).toEqual([]);
  });

  it('add every look-up to limits_cache_lookups_total, once', async () => {
    const hot = metrics();
    const hits = hot.hotLookups('hit');
    const misses = hot.hotLookups('miss');
    for (let i = 0; i < 7; i += 1) hits.inc();
    misses.inc();
    hot.limitsLookups.inc({ result: 'hit' });
    const lines = [
      'limits_cache_lookups_total{result="hit"} 8',
      'limits_cache_lookups_total{result="miss"} 1',
    ];
    expect(await series(hot, 'limits_cache_lookups_total{')).toEqual(lines);
    expect(await series(hot, 'limits_cache_lookups_total{')).toEqual(lines);
    hits.inc();
    expect(await series(hot, 'limits_cache_lookups_total{result="hit"}')).toEqual([
      'limits_cache_lookups_total{result="hit"} 9',
    ]);
  });
});
