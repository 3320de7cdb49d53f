/**
 * What the system itself said went wrong during a measured run, read from its log lines: the event-loop stalls its
 * processes reported, the leaders elected, and the Raft snapshots taken (each holds up its process while captured).
 * A tail made of a stall or an election shows here; one made of checkouts waiting for a busy core does not.
 *
 * What counts as a stall is the services' own check (platform/event-loop.ts): a timer due every 100 ms that runs
 * more than 100 ms late is logged (`event_loop_blocked_ms`). A block of B ms makes it late by between B − 100 and
 * B ms, so every block longer than 200 ms is reported, a shorter one only by chance; and a process kept waiting for
 * a core is late too, so a reported stall may be the box's load as well as a long task.
 */

export interface Stall {
  /** The process: an executor's or a replica's id, else the service's name. */
  process: string;
  ms: number;
}

/** A Raft snapshot a process took: its capture held up that process's Ready loop for `captureMs`. */
export interface SnapshotTaken {
  process: string;
  captureMs: number;
}

export interface RunIncidents {
  /** In the order they were logged. */
  stalls: Stall[];
  /** `became leader` lines: elections won, in either Raft cluster. */
  elections: number;
  /** Snapshots taken (executors and books replicas), in the order they were logged. */
  snapshots: SnapshotTaken[];
}

/** Records outside `window` (by their `timestamp`, ms since the epoch), when one is given, are left out. */
export function incidentsIn(lines: readonly string[], window?: { fromMs: number; toMs: number }): RunIncidents {
  const stalls: Stall[] = [];
  const snapshots: SnapshotTaken[] = [];
  let elections = 0;
  for (const line of lines) {
    // Most lines are none of these; parse only the candidates.
    const stall = line.includes('"event_loop_blocked_ms"');
    const election = line.includes('became leader');
    const snapshot = line.includes('"snapshot_capture_ms"');
    if (!stall && !election && !snapshot) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (window && typeof record.timestamp === 'string') {
      const at = Date.parse(record.timestamp);
      if (at < window.fromMs || at > window.toMs) continue;
    }
    const process = [record.executor, record.replica, record.service].find((v): v is string => typeof v === 'string') ?? 'unknown';
    if (stall && typeof record.event_loop_blocked_ms === 'number') stalls.push({ process, ms: record.event_loop_blocked_ms });
    if (snapshot && typeof record.snapshot_capture_ms === 'number') snapshots.push({ process, captureMs: record.snapshot_capture_ms });
    if (election && typeof record.message === 'string' && record.message.startsWith('became leader')) elections++;
  }
  return { stalls, elections, snapshots };
}

/** "no stall reported; no election; no snapshot", or what there was, longest stall first. */
export function describeIncidents({ stalls, elections, snapshots }: RunIncidents): string {
  const longest = [...stalls].sort((a, b) => b.ms - a.ms);
  const shown = longest.slice(0, 4).map((s) => `${s.process} ${s.ms} ms`);
  if (longest.length > shown.length) shown.push(`${longest.length - shown.length} more`);
  const stallText = stalls.length === 0 ? 'no stall reported' : `stalls: ${shown.join(', ')}`;
  const electionText = elections === 0 ? 'no election' : `${elections} election${elections === 1 ? '' : 's'}`;
  const longestCapture = Math.max(0, ...snapshots.map((s) => s.captureMs));
  const snapshotText =
    snapshots.length === 0
      ? 'no snapshot'
      : `${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'} (${[...new Set(snapshots.map((s) => s.process))].join(', ')}; longest capture ${longestCapture} ms)`;
  return `${stallText}; ${electionText}; ${snapshotText}`;
}
