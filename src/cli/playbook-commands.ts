import { readFile } from 'node:fs/promises';
import { parsePlaybook } from '../engine/playbook/parse.ts';

/** `momentum playbook validate FILE`: checks a playbook offline, listing every problem with its line. */
export async function validatePlaybookFile(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  const result = parsePlaybook(text);
  if (result.ok) {
    process.stdout.write(`${file}: valid playbook "${result.playbook.name}" (${result.playbook.stages.length} stages, ${result.playbook.rules.length} rules)\n`);
    return 0;
  }
  for (const problem of result.problems) {
    const where = problem.line === undefined ? '' : `:${problem.line}${problem.column === undefined ? '' : `:${problem.column}`}`;
    process.stderr.write(`${file}${where}: ${problem.path || '(document)'}: ${problem.message}\n`);
  }
  process.stderr.write(`${result.problems.length} problem(s)\n`);
  return 1;
}
