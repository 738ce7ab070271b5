import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Puts a benchmark's section (a markdown text starting with `# <heading>`) into the results
 * file: in place of that heading's earlier section (up to the next `# ` heading), or at the end.
 * The other benchmarks' sections stay as they were.
 */
export function writeSection(file: string, heading: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `# ${heading}`);
  const body = section.trimEnd().split('\n');
  if (start < 0) {
    const before = text.trimEnd();
    writeFileSync(file, `${before ? `${before}\n\n` : ''}${body.join('\n')}\n`);
    return;
  }
  let end = lines.findIndex((line, i) => i > start && line.startsWith('# '));
  if (end < 0) end = lines.length;
  const after = lines.slice(end);
  const next = [...lines.slice(0, start), ...body, ...(after.length > 0 ? ['', ...after] : [])];
  writeFileSync(file, `${next.join('\n').trimEnd()}\n`);
}
