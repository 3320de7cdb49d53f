import fs from 'node:fs';
import path from 'node:path';

/**
 * The pid of every process a local supervisor runs on this machine: `npm start` (src/dev/launcher) writes it as
 * JSON each time it starts or restarts a process; `npm run chaos`, the test harness and, in local mode, the
 * orchestrator's kill-leader read it. The format lives here, in shared plumbing, so that the orchestrator reads it
 * without importing the launcher; the launcher decides where the file is and names it to its children in
 * PROCESS_TABLE_VARIABLE.
 */
export interface ProcessTable {
  /** The supervisor itself. */
  launcher: number;
  /** Process name (e.g. "executor-2", "orchestrator") → its current pid. */
  processes: Record<string, number>;
}

/** The environment variable that tells a supervised process where its supervisor's table is. */
export const PROCESS_TABLE_VARIABLE = 'CAUSEWAY_PID_FILE';

/** The table in `file`, or undefined when there is none (nothing supervises processes there). */
export function readProcessTable(file: string): ProcessTable | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const table = JSON.parse(text) as Partial<ProcessTable>;
  if (typeof table.launcher !== 'number' || typeof table.processes !== 'object' || table.processes === null) {
    throw new Error(`${file} is not a process table ({launcher, processes})`);
  }
  return { launcher: table.launcher, processes: table.processes };
}

/**
 * Writes the table to `file` (its directory is made if missing): aside, then renamed into place, so a reader
 * never sees a half-written table.
 */
export function writeProcessTable(file: string, table: ProcessTable): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(table, null, 2));
  fs.renameSync(temp, file);
}
