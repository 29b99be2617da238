// help.mjs — every benchmark imports this first: with --help (or -h) it prints
// the script's header comment, which is its usage, and exits before the
// benchmark loads its model or starts a browser.
import { readFileSync } from 'node:fs';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const lines = [];
  for (const line of readFileSync(process.argv[1], 'utf8').split('\n')) {
    if (line.startsWith('#!')) continue;
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/ ?/, ''));
  }
  console.log(lines.join('\n'));
  process.exit(0);
}
