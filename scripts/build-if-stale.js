#!/usr/bin/env node
// `npm start` runs this first: it builds (`npm run build`) only when a source is newer than the
// last build, so that a restart takes seconds, not a full compile. The last build's time is
// dist/.build-stamp, written after a build succeeds.
'use strict';
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.build-stamp');
/** What the build reads: sources, the admin page, migrations, packages, and their settings. */
const INPUTS = [
  'src',
  'migrations',
  'bench',
  'admin',
  'packages',
  'openapi.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
];
const SKIP = new Set(['node_modules', 'dist', '.data']);

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry)) continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(...INPUTS.map((input) => newest(join(root, input))));
if (built > 0 && changed <= built) {
  console.log('Build is up to date (dist/): starting without rebuilding.');
} else {
  console.log(built > 0 ? 'Sources changed since the last build: building.' : 'Building.');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
