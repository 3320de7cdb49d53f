import { metrics } from '@opentelemetry/api';

/**
 * The orchestrator's checkout instruments (OTLP, to the collector's Prometheus exporter):
 *   checkout.orders     Counter        checkout_orders_total{outcome, failed_event}
 *   checkout.in_flight  UpDownCounter  checkout_in_flight
 *   checkout.duration   Histogram      checkout_duration_milliseconds_bucket{outcome, le}
 * The spanmetrics connector derives similar RED metrics from the spans; these are the service's own, with the
 * domain's outcome and failed event as attributes and no sampling in between.
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
const duration = meter.createHistogram('checkout.duration', {
  unit: 'ms',
  description: 'Time from receiving a checkout to answering it, by outcome',
  advice: { explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] },
});

// Counters export nothing until their first add: start at 0 so increase() sees the first order.
for (const outcome of ['approved', 'rejected', 'error']) orders.add(0, { outcome, failed_event: 'none' });
inFlight.add(0);

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
