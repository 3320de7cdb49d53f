import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { alone } from '../src/dev/bench/alone';
import { ROOT, waitFor } from './support/system';

/** The process's state letter from /proc: 'T' when stopped; 'S' (sleeping) or, for a moment, 'R' when not. */
const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];

/**
 * A signal only wakes its process: /proc shows the new state once the process has run, which on a busy box takes a
 * moment. So the test waits for each state rather than reading it at once.
 */
const until = (what: string, pids: number[], ok: (state: string) => boolean) =>
  waitFor(what, async () => (pids.every((pid) => ok(state(pid))) ? true : undefined), 5_000, 10);
const isStopped = (s: string) => s === 'T';
const isGoing = (s: string) => s !== 'T';

const children: ChildProcess[] = [];
/** A `sleep` already asleep. */
async function sleeper(): Promise<number> {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  children.push(child);
  await until('sleep to start', [child.pid!], (s) => s === 'S');
  return child.pid!;
}

afterEach(() => {
  for (const child of children.splice(0)) {
    try {
      process.kill(child.pid!, 'SIGCONT');
    } catch {
      // already gone
    }
    child.kill('SIGKILL');
  }
});

describe('alone (the bench measures with the other systems stopped)', () => {
  it('stops every process of the other systems while it measures, and lets them go on after', async () => {
    const services = { a: await sleeper(), b: await sleeper() };
    const system = { launcherPid: await sleeper(), pids: () => services };
    const pids = [system.launcherPid, services.a, services.b];
    await alone([system], () => until('all three stopped', pids, isStopped), 0);
    await until('all three going on', pids, isGoing);
  });

  it('lets them go on when the measure fails', async () => {
    const system = { launcherPid: await sleeper(), pids: () => ({}) };
    await expect(alone([system], () => Promise.reject(new Error('the run failed')), 0)).rejects.toThrow('the run failed');
    await until('the launcher going on', [system.launcherPid], isGoing);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('lets them go on when the bench is ended by %s in the middle of a run', async (signal) => {
    const stoppedPid = await sleeper();
    const module = path.join(ROOT, 'dist', 'dev', 'bench', 'alone.js');
    const bench = spawn(
      process.execPath,
      ['-e', `require(${JSON.stringify(module)}).alone([{ launcherPid: ${stoppedPid}, pids: () => ({}) }], () => new Promise(() => setInterval(() => {}, 1000)))`],
      { stdio: 'ignore' },
    );
    children.push(bench);
    await until('the sleeper stopped by the bench', [stoppedPid], isStopped);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => bench.once('exit', (_code, sig) => resolve(sig)));
    bench.kill(signal);
    // The bench still ends as the signal says, and what it had stopped runs again.
    expect(await exited).toBe(signal);
    await until('the sleeper going on', [stoppedPid], isGoing);
  });
});
