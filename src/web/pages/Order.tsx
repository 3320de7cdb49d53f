import { useEffect, useState } from 'react';
import { ApiError, type Api, type OrderResult } from '../api';
import { CausalityDiagram } from '../causality/CausalityDiagram';
import { CommitTimeline } from '../commit/CommitTimeline';

const EVENT_NAMES: Record<string, string> = {
  A: 'checking the items',
  B: 'checking your details',
  C: 'checking the card',
  D: 'the fraud check on your details',
  E: 'the fraud check on the card',
  F: 'choosing suggestions',
};

export function Order({ api, orderId }: { api: Api; orderId: string }) {
  const [order, setOrder] = useState<OrderResult | undefined>(() => {
    const cached = sessionStorage.getItem(`order:${orderId}`);
    return cached ? (JSON.parse(cached) as OrderResult) : undefined;
  });
  const [error, setError] = useState<string | undefined>();

  // Follow the order until the executor cluster has run it.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const latest = await api.order(orderId);
        if (stopped) return;
        setOrder(latest);
        // Queued, or decided while the decision is still being delivered (participants' states still votes).
        if (latest.state === 'queued' || (latest.commit && !latest.commit.finished)) timer = setTimeout(poll, 500);
      } catch (err) {
        if (!stopped) setError(err instanceof ApiError && err.status === 404 ? 'This order is not known to the shop (it may have restarted).' : (err as Error).message);
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, orderId]);

  if (!order) return error ? <p role="alert" className="error">{error}</p> : <p aria-busy="true">Loading order…</p>;
  const approved = order.status === 'Order Approved';
  const failed = order.state === 'failed';
  const jaeger = order.traceId ? `${api.config.jaegerUrl}/trace/${order.traceId}` : undefined;
  // The commit is traced by the executor leader, in a trace of its own linked to the checkout's: found by order id.
  const commitTrace = `${api.config.jaegerUrl}/search?service=order-executor&operation=${encodeURIComponent('two-phase commit')}&tags=${encodeURIComponent(
    JSON.stringify({ 'order.id': order.orderId }),
  )}&lookback=2d`;
  const traceLinks = [{ href: commitTrace, label: 'Commit trace in Jaeger' }, ...(jaeger ? [{ href: jaeger, label: 'Checkout trace' }] : [])];
  return (
    <section aria-labelledby="order-title">
      <div className={`banner ${approved && !failed ? 'ok' : 'rejected'}`} role="status">
        <h1 id="order-title">{failed ? 'Order failed' : approved ? 'Order approved' : 'Order rejected'}</h1>
        {failed ? (
          <p data-testid="failure">
            Order <code>{order.orderId}</code> was approved but could not be executed: no copies were taken
            {order.commit ? ' and nothing was charged' : ''}:{' '}
            {order.failure?.message}{' '}
            <span className="muted">
              (code {order.failure?.code}
              {order.execution ? `; decided by ${order.execution.executor} in term ${order.execution.term}, log index ${order.execution.index}` : ''})
            </span>
          </p>
        ) : approved ? (
          <p>
            Thank you! Order <code>{order.orderId}</code>{' '}
            {order.state === 'executed' && order.execution ? (
              <span data-testid="execution">
                was executed by <strong>{order.execution.executor}</strong> (term {order.execution.term}, log index {order.execution.index}).
              </span>
            ) : (
              <span data-testid="execution">is queued for the executor cluster…</span>
            )}
          </p>
        ) : (
          <p data-testid="rejection">
            We could not accept this order: {order.rejection?.message} <span className="muted">(event {order.rejection?.event},{' '}
            {EVENT_NAMES[order.rejection?.event ?? ''] ?? 'a check'}; code {order.rejection?.code})</span>
          </p>
        )}
      </div>

      {approved && order.suggestedBooks.length > 0 && (
        <section aria-labelledby="suggestions-title">
          <h2 id="suggestions-title">You might also like</h2>
          <ul className="suggestions" data-testid="suggestions">
            {order.suggestedBooks.map((b) => (
              <li key={b.bookId}>
                <strong>{b.title}</strong> <span className="muted">by {b.author}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <div className="order-details">
        <section aria-labelledby="causality-title">
          <div className="section-head">
            <h2 id="causality-title">How this order was checked</h2>
            {jaeger && (
              <a className="button" href={jaeger} target="_blank" rel="noreferrer" data-testid="jaeger-link">
                Open in Jaeger
              </a>
            )}
          </div>
          <CausalityDiagram events={order.events} />
          <table className="events">
            <caption className="visually-hidden">Events of this order</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Service</th>
                <th scope="col">Vector clock</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {order.events.map((e) => (
                <tr key={e.event}>
                  <td>{e.event}</td>
                  <td>{e.service}</td>
                  <td>
                    <code>({Object.values(e.vectorClock).join(', ')})</code>
                  </td>
                  <td>{e.passed ? 'passed' : 'failed'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        {order.commit && <CommitTimeline commit={order.commit} payment={order.payment} traceLinks={traceLinks} />}
      </div>
    </section>
  );
}
