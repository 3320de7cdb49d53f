import fs from 'node:fs';
import path from 'node:path';

/** Where the launcher records its processes, {launcher, processes: {name: pid}}, for `npm run chaos` and the UI's kill button. */
export function pidFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CAUSEWAY_DATA_DIR ?? './data', 'processes.json');
}

/** The current pid of a process the launcher runs (e.g. "executor-2"), or undefined. */
export function launchedPid(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const file = pidFilePath(env);
  if (!fs.existsSync(file)) return undefined;
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { processes: Record<string, number> }).processes[name];
}
