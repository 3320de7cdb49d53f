import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { alone } from '../src/dev/bench/alone';
import { ROOT, waitFor } from './support/system';

/** The process's state letter from /proc: 'T' when stopped, 'S' when sleeping. */
const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];

const children: ChildProcess[] = [];
function sleeper(): number {
  const child = spawn('sleep', ['120'], { stdio: 'ignore' });
  children.push(child);
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
    const services = { a: sleeper(), b: sleeper() };
    const system = { launcherPid: sleeper(), pids: () => services };
    const pids = [system.launcherPid, ...Object.values(system.pids())];
    const during = await alone([system], async () => pids.map(state), 0);
    expect(during).toEqual(['T', 'T', 'T']);
    expect(pids.map(state)).toEqual(['S', 'S', 'S']);
  });

  it('lets them go on when the measure fails', async () => {
    const system = { launcherPid: sleeper(), pids: () => ({}) };
    await expect(alone([system], () => Promise.reject(new Error('the run failed')), 0)).rejects.toThrow('the run failed');
    expect(state(system.launcherPid)).toBe('S');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('lets them go on when the bench is ended by %s in the middle of a run', async (signal) => {
    const stoppedPid = sleeper();
    const module = path.join(ROOT, 'dist', 'dev', 'bench', 'alone.js');
    const bench = spawn(
      process.execPath,
      ['-e', `require(${JSON.stringify(module)}).alone([{ launcherPid: ${stoppedPid}, pids: () => ({}) }], () => new Promise(() => setInterval(() => {}, 1000)))`],
      { stdio: 'ignore' },
    );
    children.push(bench);
    await waitFor('the sleeper stopped by the bench', async () => (state(stoppedPid) === 'T' ? true : undefined), 10_000, 20);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => bench.once('exit', (_code, sig) => resolve(sig)));
    bench.kill(signal);
    // The bench still ends as the signal says, and what it had stopped runs again.
    expect(await exited).toBe(signal);
    expect(state(stoppedPid)).toBe('S');
  });
});
