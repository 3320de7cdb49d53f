/**
 * CPU time per checkout, per process: where the cores go. Reads utime + stime
 * from /proc/<pid>/stat (Linux) before and after a fixed number of checkouts.
 */
import fs from 'node:fs';
import os from 'node:os';
import { coursePageOrder, postCheckout, type RunningSystem } from '../harness/system';
import { runConcurrently } from './measures';

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU ms used so far by each process. */
export function snapshot(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
}

/** Runs `orders` checkouts `concurrency` at a time; returns CPU ms per checkout for each process and in total. */
export async function cpuPerCheckout(system: RunningSystem, orders = 400, concurrency = 8): Promise<Record<string, number>> {
  if (os.platform() !== 'linux') return {};
  const pids = { launcher: system.launcherPid, ...system.pids() };
  const before = snapshot(pids);
  await runConcurrently(orders, concurrency, async () => {
    const res = await postCheckout(system.baseUrl, coursePageOrder());
    if (res.status !== 200) throw new Error(`checkout failed: ${res.status}`);
  });
  // Let the queue and the executors finish the orders' replication and execution.
  await new Promise((r) => setTimeout(r, 1500));
  const after = snapshot(pids);
  const perCheckout = Object.fromEntries(
    Object.keys(pids).map((name) => [name, Math.round(((after[name] - before[name]) / orders) * 10) / 10]),
  );
  perCheckout.total = Math.round(Object.values(perCheckout).reduce((a, b) => a + b, 0) * 10) / 10;
  return perCheckout;
}
