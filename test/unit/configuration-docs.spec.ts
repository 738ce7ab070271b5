import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config/app-config';

const ROOT = join(__dirname, '..', '..');

/** The variable names of the README's configuration table (`A` or `A` / `B` in its first column). */
function readmeVariables(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Configuration');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const firstCell = line.split('|')[1];
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(match[1]);
  }
  return names;
}

/** Every variable loadConfig reads, from its source: `value('X')`, `int('X', ...)` and the like. */
function parsedVariables(): string[] {
  const source = readFileSync(join(ROOT, 'src', 'config', 'app-config.ts'), 'utf8');
  const body = source.slice(source.indexOf('export function loadConfig'));
  return [...body.matchAll(/\b(?:value|int|bool|schedule|list|days)\('([A-Z][A-Z0-9_]*)'/g)].map(
    (m) => m[1],
  );
}

/**
 * One fact, one place: the configuration is declared in CONFIG_VARIABLES; the README's table and
 * the parser may not know a variable it does not declare, nor miss one it does.
 */
describe('the configuration as documented', () => {
  const declared = CONFIG_VARIABLES.map((v) => v.name).sort();

  it('declares each variable once', () => {
    expect(new Set(declared).size).toBe(declared.length);
  });

  it('the README table lists exactly the declared variables', () => {
    expect([...new Set(readmeVariables())].sort()).toEqual(declared);
  });

  it('the parser reads exactly the declared variables', () => {
    expect([...new Set(parsedVariables())].sort()).toEqual(declared);
  });
});
