import { metrics, type ObservableResult } from '@opentelemetry/api';
import type { LedgerObserver } from './ledger';
import type { PaymentCounts, PrepareAnswer, TxRecord } from './payment-state';

/**
 * The payment service's metrics (OTLP, and Prometheus on CAUSEWAY_METRICS_PORT): transactions by outcome as they
 * happen (payment_outcomes_total{outcome="held|declined|captured|voided|aborted"}), votes answered (retries and
 * refusals included), cents captured, and the holds waiting for a decision. Card data is never an attribute.
 */
export class PaymentMetrics implements LedgerObserver {
  private readonly meter = metrics.getMeter('causeway.payment');
  private readonly outcomes = this.meter.createCounter('payment.outcomes', { unit: '{transaction}', description: 'Transactions reaching a state, by state' });
  private readonly votes = this.meter.createCounter('payment.votes', { unit: '{vote}', description: 'Prepare answers, by vote (retries included)' });
  private readonly captured = this.meter.createCounter('payment.captured', { unit: '{cent}', description: 'Cents captured' });
  private readonly tokens = this.meter.createCounter('payment.tokenized', { unit: '{card}', description: 'Cards tokenized, by whether the decline list holds them' });

  constructor(counts: () => PaymentCounts) {
    for (const outcome of ['held', 'declined', 'captured', 'voided', 'aborted']) this.outcomes.add(0, { outcome });
    this.captured.add(0);
    this.meter
      .createObservableGauge('payment.held.in_flight', { unit: '{transaction}', description: 'Transactions held and waiting for their decision' })
      .addCallback((r: ObservableResult) => r.observe(counts().held));
    this.meter
      .createObservableGauge('payment.held.amount', { unit: '{cent}', description: 'Cents held and waiting for a decision' })
      .addCallback((r: ObservableResult) => r.observe(counts().heldCents));
  }

  voted(answers: readonly PrepareAnswer[]): void {
    for (const a of answers) this.votes.add(1, { vote: a.vote });
  }

  recorded(txs: readonly TxRecord[]): void {
    for (const tx of txs) {
      this.outcomes.add(1, { outcome: tx.state });
      if (tx.state === 'captured') this.captured.add(tx.amountCents);
    }
  }

  tokenized(declined: boolean): void {
    this.tokens.add(1, { declined: String(declined) });
  }
}
