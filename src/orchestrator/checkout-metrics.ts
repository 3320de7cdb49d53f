import { metrics } from '@opentelemetry/api';

/**
 * The orchestrator's checkout instruments (OTLP, to the collector's Prometheus exporter):
 *   checkout.orders     Counter        checkout_orders_total{outcome, failed_event}
 *   checkout.in_flight  UpDownCounter  checkout_in_flight
 *   checkout.waiting    UpDownCounter  checkout_waiting
 *   checkout.duration   Histogram      checkout_duration_milliseconds_bucket{outcome, le}
 * The spanmetrics connector derives similar RED metrics from the spans; these are the service's own, with the
 * domain's outcome and failed event as attributes and no sampling in between. in_flight and duration count from a
 * checkout's turn; waiting counts those still in line before it (src/orchestrator/admission.ts), and the request's
 * HTTP span covers the wait too.
 */
const meter = metrics.getMeter('causeway.orchestrator');

const orders = meter.createCounter('checkout.orders', {
  unit: '{order}',
  description: 'Checkouts answered, by outcome (approved, rejected, error) and the event that rejected the order',
});
const inFlight = meter.createUpDownCounter('checkout.in_flight', {
  unit: '{checkout}',
  description: 'Checkouts being processed right now',
});
const waiting = meter.createUpDownCounter('checkout.waiting', {
  unit: '{checkout}',
  description: 'Checkouts waiting their turn in line (at most CAUSEWAY_CHECKOUT_CONCURRENCY run at once)',
});
const duration = meter.createHistogram('checkout.duration', {
  unit: 'ms',
  description: "Time from a checkout's turn (after any wait in line) to its answer, by outcome",
  advice: { explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] },
});

// Counters export nothing until their first add: start at 0 so increase() sees the first order.
for (const outcome of ['approved', 'rejected', 'error']) orders.add(0, { outcome, failed_event: 'none' });
inFlight.add(0);
waiting.add(0);

/** The line's hook (CheckoutAdmission's onWaiting): +1 when a checkout joins it, -1 when its turn comes. */
export function checkoutWaiting(delta: 1 | -1): void {
  waiting.add(delta);
}

export type CheckoutOutcome = { outcome: 'approved' | 'error' } | { outcome: 'rejected'; failedEvent: string };

/** Call when a checkout starts; call the returned function once with its outcome. */
export function checkoutStarted(now: () => number = () => performance.now()): (result: CheckoutOutcome) => void {
  const start = now();
  inFlight.add(1);
  let done = false;
  return (result) => {
    if (done) return;
    done = true;
    inFlight.add(-1);
    orders.add(1, { outcome: result.outcome, failed_event: result.outcome === 'rejected' ? result.failedEvent : 'none' });
    duration.record(now() - start, { outcome: result.outcome });
  };
}
