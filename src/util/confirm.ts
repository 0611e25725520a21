/** A [y/N] question on the terminal; without a terminal the answer is no, so scripts must pass -f. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** Asks, and stops the command (exit 1, as docker) unless the answer is yes. */
export async function confirmOrCancel(question: string, action = 'prune'): Promise<void> {
  if (!(await confirm(question))) {
    const { TsctrError } = await import('../errors.js');
    throw new TsctrError(`${action} cancelled`, 1);
  }
}
