import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const GENERATED = join(ROOT, 'packages', 'client', 'src', 'generated', 'openapi.ts');

describe('the generated REST types', () => {
  it('are what openapi-typescript makes of the committed openapi.json (else: npm run client:generate)', () => {
    // In a child process: openapi-typescript's dependencies are ES modules, which Jest cannot load.
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), 'openapi.json'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
    const committed = readFileSync(GENERATED, 'utf8');
    expect(run.stdout.length).toBeGreaterThan(10_000);
    // A difference means openapi.json changed without `npm run client:generate`.
    const fresh = run.stdout.split('\n');
    const line = committed.split('\n').findIndex((text, i) => text !== fresh[i]);
    expect({ firstDifferentLine: committed === run.stdout ? null : line + 1 }).toEqual({
      firstDifferentLine: null,
    });
  });
});
