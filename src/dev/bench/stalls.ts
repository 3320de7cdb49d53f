/**
 * What the system itself said went wrong during a measured run, read from its log lines: the event-loop stalls its
 * processes reported (every service warns of a stall of 100 ms or more, `event_loop_blocked_ms`) and the leaders
 * elected. A latency tail is either the box being busy (no stall, no election) or one of these, and the run's
 * figures alone cannot tell which.
 */

export interface Stall {
  /** The process: an executor's or a replica's id, else the service's name. */
  process: string;
  ms: number;
}

export interface RunIncidents {
  /** In the order they were logged. */
  stalls: Stall[];
  /** `became leader` lines: elections won, in either Raft cluster. */
  elections: number;
}

export function incidentsIn(lines: readonly string[]): RunIncidents {
  const stalls: Stall[] = [];
  let elections = 0;
  for (const line of lines) {
    // Most lines are neither; parse only the candidates.
    const stall = line.includes('"event_loop_blocked_ms"');
    const election = line.includes('became leader');
    if (!stall && !election) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (stall && typeof record.event_loop_blocked_ms === 'number') {
      const process = [record.executor, record.replica, record.service].find((v): v is string => typeof v === 'string') ?? 'unknown';
      stalls.push({ process, ms: record.event_loop_blocked_ms });
    }
    if (election && typeof record.message === 'string' && record.message.startsWith('became leader')) elections++;
  }
  return { stalls, elections };
}

/** "no stall of 100 ms or more, no election", or what there was, longest stall first. */
export function describeIncidents({ stalls, elections }: RunIncidents): string {
  const longest = [...stalls].sort((a, b) => b.ms - a.ms);
  const shown = longest.slice(0, 4).map((s) => `${s.process} ${s.ms} ms`);
  if (longest.length > shown.length) shown.push(`${longest.length - shown.length} more`);
  const stallText = stalls.length === 0 ? 'no stall of 100 ms or more' : `stalls: ${shown.join(', ')}`;
  const electionText = elections === 0 ? 'no election' : `${elections} election${elections === 1 ? '' : 's'}`;
  return `${stallText}; ${electionText}`;
}
