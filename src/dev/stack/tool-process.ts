/**
 * One of the observability tools (collector, Jaeger, Prometheus, Alertmanager) running as a child process, its
 * output appended to a log file of its own, stopped with SIGTERM (SIGKILL if it lingers). Dev tooling: `npm run
 * stack` and the end-to-end tests use it; no service imports it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export class ToolProcess {
  private readonly exited: Promise<void>;
  private exitDescription: string | undefined;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitDescription = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      }),
    );
  }

  /** Starts `binary` with `args` and `env` (on top of this process's), logging to `<logDir>/<name>.log`. */
  static start(name: string, binary: string, args: string[], options: { logDir: string; env?: Record<string, string>; cwd?: string }): ToolProcess {
    fs.mkdirSync(options.logDir, { recursive: true });
    const logFile = path.join(options.logDir, `${name}.log`);
    const log = fs.openSync(logFile, 'a');
    const child = spawn(binary, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    return new ToolProcess(name, logFile, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitDescription === undefined;
  }

  /** The tool's output so far (for error messages). */
  output(lastChars = 4000): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').slice(-lastChars);
    } catch {
      return '';
    }
  }

  /**
   * Polls `probe` until it answers true; fails as soon as the process exits, or after `timeoutMs`, with the tool's
   * output in the message (a config the tool rejects shows up here).
   */
  async ready(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} ${this.exitDescription} before ${what}:\n${this.output()}`);
      if (await probe().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${this.name}: ${what}\n${this.output()}`);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** True once `url` answers 2xx. */
export async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}
