/**
 * `npm run bench:costs`: the figures that code comments used to state as facts of this machine
 * (issue 14), measured here and written to bench/RESULTS.md under "Costs behind code comments"
 * with the machine and the date:
 * - one argon2id hash with PasswordHasher's parameters, and 4 + 64 logins' hashes at once through
 *   its slots (auth/password-hasher.ts: MAX_CONCURRENT_HASHES, MAX_QUEUED_LOGIN_HASHES);
 * - the password estimator: its first use (loading the dictionaries), and 256-character
 *   passwords of look-alike characters with zxcvbn's defaults and with the service's limits
 *   (common/password-policy.ts: ESTIMATED_LENGTH, L33T_MAX_SUBSTITUTIONS);
 * - the heap of a million customer ids in an IdTable and in a Map keyed by the id strings
 *   (limits/id-table.ts).
 * Run it with `node --expose-gc` (the npm script does) so the heap is measured after a collection.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';
import {
  MAX_CONCURRENT_HASHES,
  MAX_QUEUED_LOGIN_HASHES,
  PasswordHasher,
} from '../src/auth/password-hasher';
import { passwordWeakness } from '../src/common/password-policy';
import { IdTable } from '../src/limits/id-table';
import { loadAverage, machine, writeResultsSection } from './bench-support';

const HEADING = 'Costs behind code comments (`npm run bench:costs`)';
const HASHES = 20;
const IDS = 1_000_000;
const OWNER = { email: 'jane.doe@example.com', name: 'Jane Doe' };
/** Look-alike characters over the whole length: what makes the estimator's cost explode. */
const HARD_PASSWORDS = [
  '4@3!1l0$'.repeat(32),
  'p@55w0rd'.repeat(32),
  '1l!0o@a$5e'.repeat(26).slice(0, 256),
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed<T>(task: () => T | Promise<T>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

async function hashing(): Promise<string[]> {
  const hasher = new PasswordHasher();
  await hasher.hash('warm-up the thread pool');
  const one: number[] = [];
  for (let i = 0; i < HASHES; i++) one.push(await timed(() => hasher.hash(`password ${i}`)));
  const burst = MAX_CONCURRENT_HASHES + MAX_QUEUED_LOGIN_HASHES;
  const all = await timed(() =>
    Promise.all(Array.from({ length: burst }, (_, i) => hasher.hash(`burst ${i}`))),
  );
  return [
    `| one argon2id hash (19 MiB, 2 passes), median of ${HASHES} one after another | ${median(one).toFixed(1)} ms |`,
    `| ${burst} hashes at once (${MAX_CONCURRENT_HASHES} slots + ${MAX_QUEUED_LOGIN_HASHES} waiting), until the last is done | ${all.toFixed(0)} ms |`,
  ];
}

async function estimating(): Promise<string[]> {
  const first = await timed(() => passwordWeakness('correct horse battery staple', OWNER));
  const defaults = new ZxcvbnFactory({
    translations,
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
  });
  defaults.check('warm-up');
  const rows = [
    `| the estimator's first use (loading its dictionaries) and one check | ${first.toFixed(0)} ms |`,
  ];
  for (const password of HARD_PASSWORDS) {
    const full = await timed(() => defaults.check(password));
    const limited = await timed(() => passwordWeakness(password, OWNER));
    rows.push(
      `| \`${password.slice(0, 12)}…\` (256 characters): zxcvbn's defaults / the service's limits | ${full.toFixed(0)} ms / ${limited.toFixed(0)} ms |`,
    );
  }
  return rows;
}

/** Heap and array buffers in use after full collections, each on a stack of its own. */
async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('Run with node --expose-gc (npm run bench:costs does).');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

async function ids(): Promise<string[]> {
  // randomUUID's strings are ropes until first read; JSON gives flat ones, as the database does.
  const ids = JSON.parse(
    JSON.stringify(Array.from({ length: IDS }, () => randomUUID())),
  ) as string[];
  const base = await heapAfterGc();
  const table = new IdTable();
  for (const id of ids) table.slotOf(id);
  const tableBytes = (await heapAfterGc()) - base;
  const map = new Map<string, number>();
  // Strings of its own (as each row read brings), not the ones the array above holds.
  for (const [slot, id] of ids.entries()) map.set(Buffer.from(id).toString('latin1'), slot);
  const mapBytes = (await heapAfterGc()) - base - tableBytes;
  // The array stays alive to here, so the Map's figure is its own strings and entries only.
  if (table.size !== ids.length || map.size !== ids.length)
    throw new Error('Not every id was kept.');
  return [
    `| ${IDS.toLocaleString('en')} ids in an IdTable (heap and array buffers) | ${(tableBytes / IDS).toFixed(0)} bytes per id |`,
    `| the same ids in a Map of id strings to slots | ${(mapBytes / IDS).toFixed(0)} bytes per id |`,
  ];
}

async function main(): Promise<void> {
  const rows = [...(await hashing()), ...(await estimating()), ...(await ids())];
  const body = [
    `${machine()}; ${new Date().toISOString().slice(0, 10)}, load average before: ${loadAverage()}.`,
    '',
    '| what | measured |',
    '| --- | --- |',
    ...rows,
    '',
    'The comments of auth/password-hasher.ts, common/password-policy.ts and limits/id-table.ts ' +
      'rest on these. Compare figures within one run only: this machine is shared.',
  ].join('\n');
  console.log(body);
  await writeResultsSection(HEADING, body);
  console.log('Written to bench/RESULTS.md');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
