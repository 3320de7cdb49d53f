import path from 'node:path';

/** Where the launcher records its processes, {launcher, processes: {name: pid}}, for `npm run chaos` and the UI's kill button. */
export function pidFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CAUSEWAY_DATA_DIR ?? './data', 'processes.json');
}
