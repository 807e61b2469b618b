/**
 * Makes a script stop what it started when it is interrupted (SIGINT, SIGTERM) as on a normal end, then exit 130 or
 * 143: Ctrl-C does not reach the process groups of service processes, and a signal sent to the script alone reaches
 * none of its children. Returns `stop` run at most once, for the script's `finally` to call as well; a second
 * signal while it runs exits at once.
 */
export function stopOnInterrupt(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const once = () => (stopping ??= stop());
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (stopping !== undefined) process.exit(code);
    console.error(`\n${signal}: stopping what was started`);
    once().then(
      () => process.exit(code),
      (err: unknown) => {
        console.error(err);
        process.exit(code);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return once;
}
