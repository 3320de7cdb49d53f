/** Runs a main function, exiting with a clear message if start-up fails. */
export function runMain(name: string, main: () => Promise<unknown>): void {
  main().catch((err: Error) => {
    process.stderr.write(`${name} failed to start: ${err.message}\n`);
    process.exit(1);
  });
}
