import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './system';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built developer tool (`dist/<script>`) as users run it, and collects its exit code and output. */
export function runBuiltTool(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', script), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
