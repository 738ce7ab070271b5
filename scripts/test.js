#!/usr/bin/env node
// `npm test [-- <jest args>]`. On a PostgreSQL server every test file has its own database
// (cloned from a template), so files run in parallel workers; the timing-sensitive files (they
// assert that something happens within a bound, or run several instances against one database)
// then run one at a time, on a quiet machine. On the embedded engine all files share one
// database: everything runs in band. Given test paths, or --runInBand, it is one jest run.
'use strict';
const { spawnSync } = require('node:child_process');
const { availableParallelism } = require('node:os');
const { Client } = require('pg');

const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Files that assert a latency or share timing with other instances: run serially, last. */
const SERIAL = [
  'test/e2e/holds-boundar', // holds-boundaries*, holds-boundary-race: "within 1000 ms"
  'test/e2e/multi-instance',
  'test/e2e/canonical-ids', // two instances: "disabled at once on both", within 100 ms
  'test/e2e/holds-race', // 60-way races between instances
  'test/e2e/holds-semantics', // boundaries a few hundred ms away, run by the scheduler
  'test/e2e/change-feed-staleness',
  'test/e2e/database-outage',
  'test/e2e/login-throttle',
  'test/e2e/access-stream',
  'test/e2e/webhooks-delivery',
  'test/e2e/dunning-instances',
  'packages/client/test/',
  'test/browser/',
];

/**
 * Workers: the files mostly wait (on PostgreSQL, timers and sockets: a serial run uses about a
 * third of one core), so twice the cores keeps them busy without starving the database.
 */
const WORKERS = String(Math.max(2, availableParallelism() * 2));

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

function jest(args) {
  const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], {
    stdio: 'inherit',
  });
  return result.status ?? 1;
}

async function main() {
  const args = process.argv.slice(2);
  const escaped = SERIAL.map((path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!(await reachable(SERVER_URL))) process.exit(jest(['--runInBand', ...args]));
  const chosen = args.some((arg) => !arg.startsWith('-')) || args.includes('--runInBand');
  const hasWorkers = args.some((arg) => arg.startsWith('--maxWorkers') || arg.startsWith('-w'));
  const workers = hasWorkers ? [] : [`--maxWorkers=${WORKERS}`];
  if (chosen) process.exit(jest([...workers, ...args]));
  const parallel = jest([...workers, `--testPathIgnorePatterns=${escaped.join('|')}`, ...args]);
  const serial = jest(['--runInBand', ...args, ...escaped]);
  process.exit(parallel || serial);
}

void main();
