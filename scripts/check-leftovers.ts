/**
 * Runs a command, then checks that it left nothing running: every process the command starts inherits a mark in
 * its environment (`BGC_TEST_RUN`, as in a test run), so its children's children and orphans are found too. What
 * is left is printed and killed, and the exit code is 1; else it is the command's own.
 *
 *   npx tsx scripts/check-leftovers.ts npx tsx scripts/demo.ts --exit
 *   npx tsx scripts/check-leftovers.ts npm run bench -- --tiny
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { RUN_MARK_VARIABLE, describeProcess, endLeftovers } from '../test/support/processes';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('usage: npx tsx scripts/check-leftovers.ts <command> [arguments…]');
  process.exit(2);
}
const mark = randomUUID();
// Ctrl-C reaches the command too (same process group): wait for it to end, then look.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, [RUN_MARK_VARIABLE]: mark } });
child.once('error', (err) => {
  console.error(err.message);
  process.exit(2);
});
child.once('exit', (code, signal) => {
  void endLeftovers(mark).then((left) => {
    if (left.length === 0) {
      console.log(
        `check-leftovers: ${command} ${args.join(' ')} (${signal ?? code}) left no process running`,
      );
      process.exit(code ?? 1);
    }
    console.error(
      `check-leftovers: ${left.length} process(es) still ran after ${command} ${args.join(' ')} ended ` +
        `(${signal ?? code}); now killed:\n${left.map((p) => `  ${describeProcess(p)}`).join('\n')}`,
    );
    process.exit(1);
  });
});
