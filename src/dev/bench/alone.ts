/**
 * Stopping a system's processes while another is measured (see `alone`), without leaving them stopped: a stopped
 * process does not act on SIGTERM or SIGINT until it is let go on, so a bench interrupted in the middle (Ctrl-C, a
 * kill) would otherwise leave a whole system frozen, holding its ports and files, until someone sent SIGCONT.
 */

/** What `alone` needs of a running system: every process it has. */
export interface Processes {
  launcherPid: number;
  pids(): Record<string, number>;
}

const stopped = new Set<number>();
const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function signal(pids: Iterable<number>, name: 'SIGSTOP' | 'SIGCONT'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // Gone already: a process that exited is nothing to stop or let go on.
    }
  }
}

function letAllGoOn(): void {
  signal(stopped, 'SIGCONT');
  stopped.clear();
}

/** On a signal that ends the bench: let the stopped processes go on, then end as the signal would have. */
function onExitSignal(name: NodeJS.Signals): void {
  letAllGoOn();
  removeGuards();
  process.kill(process.pid, name);
}

function installGuards(): void {
  process.on('exit', letAllGoOn);
  for (const name of EXIT_SIGNALS) process.on(name, onExitSignal);
}

function removeGuards(): void {
  process.off('exit', letAllGoOn);
  for (const name of EXIT_SIGNALS) process.off(name, onExitSignal);
}

/**
 * Runs `measure` with every process of `others` stopped (SIGSTOP), then lets them go on (SIGCONT) and waits
 * `settleMs` for them to catch up. If the bench ends meanwhile (an exception, process.exit, SIGINT, SIGTERM, SIGHUP),
 * they are let go on first.
 */
export async function alone<T>(others: Processes[], measure: () => Promise<T>, settleMs = 1000): Promise<T> {
  const pids = others.flatMap((s) => [s.launcherPid, ...Object.values(s.pids())]);
  if (stopped.size === 0) installGuards();
  for (const pid of pids) stopped.add(pid);
  signal(pids, 'SIGSTOP');
  try {
    return await measure();
  } finally {
    signal(pids, 'SIGCONT');
    for (const pid of pids) stopped.delete(pid);
    if (stopped.size === 0) removeGuards();
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  }
}
