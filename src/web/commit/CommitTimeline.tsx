import type { CommitStep, CommitView, PaymentView } from '../../orchestrator/api-types';

const PARTICIPANT_NAMES: Record<string, string> = { 'books-database': 'books database', payment: 'payment' };

const money = (cents: number) => `€${(cents / 100).toFixed(2)}`;

/** One step in words: what happened, and to whom. */
function describe(step: CommitStep, commit: CommitView): string {
  const who = step.participant ? PARTICIPANT_NAMES[step.participant] ?? step.participant : '';
  switch (step.step) {
    case 'prepare':
      return 'Prepare sent to the books database and payment';
    case 'vote':
      return step.outcome === 'UNAVAILABLE' ? `${who} did not vote in time` : `${who} voted ${step.outcome}`;
    case 'decision':
      return `Decision: ${step.outcome}${commit.reason ? ` (${commit.reason})` : ''}, logged by ${commit.coordinator} in term ${commit.term}`;
    case 'commit':
    case 'abort':
      return `${who} acknowledged the ${step.step}: ${step.outcome}`;
  }
}

/**
 * The two-phase commit that decided an order (issue 14): prepare, each participant's vote, the decision, each
 * participant's commit or abort, at their times relative to the prepare, each drawn as a mark on a time bar.
 */
export function CommitTimeline({ commit, payment, traceLinks }: { commit: CommitView; payment?: PaymentView; traceLinks: { href: string; label: string }[] }) {
  const span = Math.max(1, ...commit.timeline.map((s) => s.sinceStartMs));
  return (
    <section aria-labelledby="commit-title" className="commit" data-testid="commit" data-decision={commit.decision} data-finished={commit.finished}>
      <div className="section-head">
        <h2 id="commit-title">How the order was committed</h2>
        <div className="trace-links">
          {traceLinks.map((l) => (
            <a key={l.href} className="button" href={l.href} target="_blank" rel="noreferrer" data-testid="commit-trace-link">
              {l.label}
            </a>
          ))}
        </div>
      </div>
      <p>
        Two-phase commit: <strong data-testid="commit-decision">{commit.decision}</strong>
        {commit.reason ? <> ({commit.reason})</> : null}, coordinated by <strong>{commit.coordinator}</strong> in term {commit.term}.{' '}
        {commit.finished ? 'Both participants have acknowledged the decision.' : 'The decision is being delivered to the participants…'}
      </p>
      <dl className="commit-participants">
        {(['books-database', 'payment'] as const).map((p) => (
          <div key={p}>
            <dt>{PARTICIPANT_NAMES[p]}</dt>
            <dd data-testid={`commit-participant-${p}`}>{commit.participants[p] ?? '—'}</dd>
          </div>
        ))}
        {payment && (
          <div>
            <dt>payment of {money(payment.amountCents)}</dt>
            <dd data-testid="payment-status">{payment.status}</dd>
          </div>
        )}
      </dl>
      {commit.timeline.length === 0 ? (
        <p className="muted">No times were recorded for this commit.</p>
      ) : (
        <ol className="commit-timeline" data-testid="commit-timeline">
          {commit.timeline.map((s, i) => (
            <li key={i} className={`step ${s.step}`} data-step={s.step} data-participant={s.participant ?? ''}>
              <time dateTime={new Date(s.at).toISOString()} title={new Date(s.at).toLocaleTimeString()}>
                +{s.sinceStartMs} ms
              </time>
              <span className="bar" aria-hidden="true">
                <span className="mark" style={{ left: `${(100 * s.sinceStartMs) / span}%` }} />
              </span>
              <span className="what">{describe(s, commit)}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
