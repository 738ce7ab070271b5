import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrations } from '../../migrations';

describe('migrations/index.ts', () => {
  it('lists every migration file of the folder, in timestamp order', () => {
    const files = readdirSync(join(__dirname, '..', '..', 'migrations'))
      .filter((f) => /^\d+-\w+\.ts$/.test(f))
      .sort();
    const classes = files.map((f) => {
      const [timestamp, name] = f.replace(/\.ts$/, '').split('-');
      return `${name}${timestamp}`;
    });
    expect(migrations.map((m) => m.name)).toEqual(classes);
  });
});
