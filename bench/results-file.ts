import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * bench/RESULTS.md holds the last figures of every benchmark, one section each, under its own
 * heading (`# Limits benchmark`, `## Dunning run`): a benchmark rewrites its section and keeps
 * the others. A section has no heading inside it but its first line.
 */
export function writeSection(file: string, section: string): void {
  const heading = section.split('\n', 1)[0];
  const blocks = existsSync(file) ? splitSections(readFileSync(file, 'utf8')) : [];
  const index = blocks.findIndex((block) => block.split('\n', 1)[0] === heading);
  const text = `${section.trim()}\n`;
  if (index >= 0) blocks[index] = text;
  else blocks.push(text);
  writeFileSync(file, blocks.map((block) => block.trim()).join('\n\n') + '\n');
}

function splitSections(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (/^#{1,2} /.test(line) && current.some((l) => l.trim() !== '')) {
      blocks.push(current.join('\n'));
      current = [];
    }
    current.push(line);
  }
  if (current.some((l) => l.trim() !== '')) blocks.push(current.join('\n'));
  return blocks;
}
