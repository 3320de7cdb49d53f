import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Logger } from '../platform/logger';
import { linkTo } from '../platform/telemetry/traceparent';
import type { Execution, OrderCommand } from './execution-ledger';

const tracer = trace.getTracer('causeway.executor');

/**
 * Announces an order the ledger has just executed (ExecutionLedger.apply is
 * the execution; this changes no state): a span on every replica, linked to the
 * order's checkout trace, and a log line. The leader logs at info ("Order <id>
 * executed"), followers at debug, so the log holds one line per order rather
 * than one per replica.
 */
export function announceExecution(command: OrderCommand, execution: Execution, self: string, leading: boolean, logger: Logger): void {
  const span = tracer.startSpan(
    'execute order',
    {
      links: linkTo(command.traceparent, { 'causeway.link': 'checkout' }),
      attributes: {
        'order.id': command.orderId,
        'executor.id': self,
        'executor.leader': execution.executor,
        'raft.term': execution.term,
        'raft.index': execution.index,
        'order.items': command.items.length,
        'order.outcome': execution.failure ? 'failed' : 'executed',
        ...(execution.failure ? { 'order.failure': execution.failure.code } : {}),
      },
    },
    ROOT_CONTEXT,
  );
  context.with(trace.setSpan(context.active(), span), () => {
    const items = command.items.map((i) => `${i.quantity} × ${i.name}`).join(', ');
    const message = execution.failure
      ? `Order ${command.orderId} failed (${execution.failure.code}: ${execution.failure.message}): ${items}`
      : `Order ${command.orderId} executed: ${items}`;
    const meta = {
      order_id: command.orderId,
      leader: execution.executor,
      term: execution.term,
      index: execution.index,
      shipping: command.shippingMethod,
    };
    if (leading) logger.info(message, meta);
    else logger.debug(message, meta);
  });
  span.end();
}
