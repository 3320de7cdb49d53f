import path from 'node:path';

/**
 * Where the launcher keeps its process table (the format is src/platform/process-table.ts): in the data directory,
 * so `npm run chaos` finds a running `npm start`'s table from the same directory and settings.
 */
export function pidFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CAUSEWAY_DATA_DIR ?? './data', 'processes.json');
}
