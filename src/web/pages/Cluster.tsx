import { useEffect, useState } from 'react';
import type { Api, BooksReplicaView, ClusterSnapshot, ExecutorView } from '../api';
import { addLeaderChange, type LeaderChange } from '../leader-timeline';

/** The replica that says it leads, as the page names it above each list and in the timeline. */
function leaderOf<R extends { role: string }>(replicas: readonly R[] | undefined): R | undefined {
  return replicas?.find((r) => r.role === 'leader');
}

function ago(ms: number | null, now: number): string {
  if (!ms) return '—';
  const d = Math.max(0, now - ms);
  return d < 1000 ? `${d} ms ago` : `${(d / 1000).toFixed(1)} s ago`;
}

export function Cluster({ api }: { api: Api }) {
  const [snapshot, setSnapshot] = useState<ClusterSnapshot | undefined>();
  const [changes, setChanges] = useState<LeaderChange[]>([]);
  const [connected, setConnected] = useState(false);
  // What the last kill did, shown beside the button that asked for it.
  const [message, setMessage] = useState<{ target: 'executors' | 'booksDatabase'; text: string } | undefined>();
  const [now, setNow] = useState(Date.now());

  // Live: the SSE stream says when roles change; a light poll keeps indexes and heartbeats fresh.
  useEffect(() => {
    const source = api.clusterEvents();
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    // Every snapshot that shows a leader feeds the timeline too, so the leader named above is always in it.
    const show = (s: ClusterSnapshot) => {
      setSnapshot(s);
      const leader = leaderOf(s.executors);
      if (leader) setChanges((c) => addLeaderChange(c, { at: s.at, leaderId: leader.id, term: leader.term }));
    };
    source.addEventListener('snapshot', (e) => show(JSON.parse((e as MessageEvent).data).snapshot as ClusterSnapshot));
    source.addEventListener('leader', (e) => {
      const change = JSON.parse((e as MessageEvent).data) as LeaderChange;
      setChanges((c) => addLeaderChange(c, change));
    });
    const refresh = () => api.cluster().then(show, () => undefined);
    source.addEventListener('role', refresh);
    const poll = setInterval(refresh, 1000);
    const tick = setInterval(() => setNow(Date.now()), 250);
    return () => {
      source.close();
      clearInterval(poll);
      clearInterval(tick);
    };
  }, [api]);

  async function kill(target: 'executors' | 'booksDatabase' = 'executors') {
    setMessage(undefined);
    try {
      const { killed, term } = target === 'executors' ? await api.killLeader() : await api.killBooksDatabaseLeader();
      setMessage({ target, text: `Killed ${killed} (leader of term ${term}) with SIGKILL. Watch the others elect a new leader; it restarts in a second.` });
    } catch (err) {
      setMessage({ target, text: (err as Error).message });
    }
  }

  const leader = leaderOf(snapshot?.executors);
  const booksLeader = leaderOf(snapshot?.booksDatabase);
  const localOnly = api.config.localMode ? undefined : 'Only when npm start runs the cluster on this machine';
  return (
    <section aria-labelledby="cluster-title">
      <div className="section-head">
        <h1 id="cluster-title">Executor cluster</h1>
        <span className={`live ${connected ? 'on' : 'off'}`}>{connected ? 'live' : 'reconnecting…'}</span>
      </div>
      <p>
        Three order executors elect a leader with Raft; the leader takes orders from the queue, replicates them and
        executes each exactly once. {leader ? (
          <span data-testid="leader">
            Leader: <strong>{leader.id}</strong> in term <strong data-testid="leader-term">{leader.term}</strong>.
          </span>
        ) : (
          <span data-testid="leader">No leader right now: an election is under way.</span>
        )}{' '}
        Queue depth: <strong data-testid="queue-depth">{snapshot?.queue.depth ?? '—'}</strong>.{' '}
        Transactions in flight (two-phase commit): <strong data-testid="transactions-coordinating">{snapshot?.transactions?.coordinating ?? '—'}</strong>{' '}
        at the leader, <strong data-testid="transactions-prepared">{snapshot?.transactions?.prepared ?? '—'}</strong> prepared at the books database.
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => kill('executors')} disabled={!api.config.localMode || !leader} title={api.config.localMode ? undefined : 'Only when npm start runs the cluster on this machine'}>
          Kill leader
        </button>
        {message?.target === 'executors' && <p role="status">{message.text}</p>}
      </div>
      <ul className="executors">
        {(snapshot?.executors ?? []).map((e: ExecutorView) => (
          <li key={e.id} className={`executor ${e.role}`} data-testid={`executor-${e.id}`} data-role={e.role}>
            <h2>{e.id}</h2>
            <p className="role">{e.role}</p>
            <dl>
              <dt>term</dt>
              <dd>{e.role === 'unreachable' ? '—' : e.term}</dd>
              <dt>leader</dt>
              <dd>{e.leaderId ?? '—'}</dd>
              <dt>commit / applied</dt>
              <dd>
                {e.commitIndex} / {e.appliedIndex}
              </dd>
              <dt>snapshot at</dt>
              <dd>{e.snapshotIndex > 0 ? e.snapshotIndex : '—'}</dd>
              <dt>orders executed</dt>
              <dd>{e.executedCount}</dd>
              <dt>commits in flight</dt>
              <dd>{e.role === 'leader' ? e.transactionsInFlight : '—'}</dd>
              <dt>last heartbeat</dt>
              <dd>{ago(e.lastHeartbeatMs, now)}</dd>
            </dl>
          </li>
        ))}
      </ul>
      <div className="section-head">
        <h2 id="books-database-title">Books database</h2>
      </div>
      <p>
        Three replicas keep every book's stock under Raft; in the two-phase commit the executor leader has the
        database reserve an order's books (prepare), and take them out of stock only once the commit is decided.{' '}
        {booksLeader ? (
          <span data-testid="books-leader">
            Leader: <strong>{booksLeader.id}</strong> in term <strong>{booksLeader.term}</strong>.
          </span>
        ) : (
          <span data-testid="books-leader">No leader right now: an election is under way.</span>
        )}
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => kill('booksDatabase')} disabled={!api.config.localMode || !booksLeader} title={localOnly}>
          Kill database leader
        </button>
        {message?.target === 'booksDatabase' && <p role="status">{message.text}</p>}
      </div>
      <ul className="executors" aria-labelledby="books-database-title">
        {(snapshot?.booksDatabase ?? []).map((r: BooksReplicaView) => (
          <li key={r.id} className={`executor ${r.role}`} data-testid={`replica-${r.id}`} data-role={r.role}>
            <h2>{r.id}</h2>
            <p className="role">{r.role}</p>
            <dl>
              <dt>term</dt>
              <dd>{r.role === 'unreachable' ? '—' : r.term}</dd>
              <dt>leader</dt>
              <dd>{r.leaderId ?? '—'}</dd>
              <dt>commit / applied</dt>
              <dd>
                {r.commitIndex} / {r.appliedIndex}
              </dd>
            </dl>
          </li>
        ))}
      </ul>
      <h2>Leader changes</h2>
      <ol className="timeline" data-testid="timeline">
        {changes.map((c, i) => (
          <li key={`${c.at}-${i}`}>
            <time dateTime={new Date(c.at).toISOString()}>{new Date(c.at).toLocaleTimeString()}</time>{' '}
            {c.leaderId ? (
              <>
                <strong>{c.leaderId}</strong> leads term {c.term}
              </>
            ) : (
              'no leader'
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
