#!/usr/bin/env node
// `npm test [-- <jest args>]`. On a PostgreSQL server every test file has its own database
// (cloned from a template), so files run in parallel workers; the timing-sensitive files (they
// assert that something happens within a bound, or share timing with other instances) then run
// one at a time. On the embedded engine all files share one database: everything runs in band,
// in one jest run. Jest arguments (paths, -t, -u...) go to both phases: a phase none of whose
// files they select is left out. `npm test -- --runInBand` is one jest run, in band.
// The exit status is non-zero when either phase fails.
'use strict';
const { spawnSync } = require('node:child_process');
const { availableParallelism } = require('node:os');
const { Client } = require('pg');

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Files run serially, after the others: they assert that something happens within a bound of
 * wall time, or drive several instances against one database with timing between them, and
 * other files' work on the same cores would stretch those times.
 */
const SERIAL = [
  'test/e2e/holds-boundar', // holds-boundaries*, holds-boundary-race: "within 1000 ms"
  'test/e2e/multi-instance', // changes seen on the other instances within a bound
  'test/e2e/canonical-ids', // two instances: "disabled at once on both", within 100 ms
  'test/e2e/holds-semantics', // boundaries a few hundred ms away, run by the scheduler
  'test/e2e/change-feed-staleness', // answers within a bound of a frozen feed
  'test/e2e/database-outage', // readiness 503 within 1 s, writes within their timeouts
  'test/e2e/login-throttle', // bursts of 40 concurrent sign-ins, argon2 on the thread pool
  'test/e2e/access-stream', // heartbeats at their interval
  'test/e2e/webhooks-delivery', // a delivery within 1 s
  'test/e2e/dunning-instances', // two instances' schedules; a scheduled run within 5 s
  'packages/client/test/access-client', // the client's staleness bounds
  'test/browser/', // Chromium: a page that turns with a hold a few seconds ahead
];

/**
 * Workers: one per core. More workers finish no sooner (the run is bound by the CPU, shared with
 * PostgreSQL) and stretch every request, which timing-sensitive code does not need.
 */
const WORKERS = String(Math.max(2, availableParallelism()));

/** Arguments after which there is one jest run, as given. */
const SINGLE_RUN = ['--runInBand', '-i', '--watch', '--watchAll', '--listTests', '--help', '-h'];

async function reachable(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function jest(args, options = {}) {
  const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], {
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  return options.capture ? { status: result.status, stdout: result.stdout } : (result.status ?? 1);
}

/** How many test files jest would run with these arguments. */
function countTests(args) {
  const listed = jest([...args, '--listTests'], { capture: true });
  if (listed.status !== 0) return 0;
  return listed.stdout.split('\n').filter((line) => line.trim() !== '').length;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.some((arg) => SINGLE_RUN.includes(arg))) return jest(args);
  if (!(await reachable(SERVER_URL))) return jest(['--runInBand', ...args]);

  const serial = SERIAL.map((path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const hasWorkers = args.some((arg) => arg.startsWith('--maxWorkers') || arg.startsWith('-w'));
  const phases = [
    [...(hasWorkers ? [] : [`--maxWorkers=${WORKERS}`]), `--testPathIgnorePatterns=${serial}`],
    // Ignored: every path that names none of SERIAL.
    ['--runInBand', `--testPathIgnorePatterns=^(?!.*(?:${serial}))`],
  ]
    // Last: an array option (as the ignore patterns are) would take the paths after it.
    .map((phase) => [...args, ...phase])
    .filter((phase) => countTests(phase) > 0);
  // Nothing selected: jest says so, and fails.
  if (phases.length === 0) return jest(args);
  let status = 0;
  // Every phase runs, so that one run shows every failure.
  for (const phase of phases) status = jest(phase) || status;
  return status;
}

main().then(
  (status) => process.exit(status),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
