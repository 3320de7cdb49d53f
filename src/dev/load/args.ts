/** The load tools' (`npm run load`, `npm run flash-sale`) command-line options. */

/** The value after `name` in the command line, undefined when `name` is not given; throws when it has none. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}
