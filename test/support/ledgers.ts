import type { Client } from 'nice-grpc';
import type { Execution, OrderExecutorDefinition } from '../../src/gen/causeway/v1/order_executor';
import { waitFor } from './system';

/**
 * Each executor's executions, once every one of them has executed every order in `ids` and finished its commit.
 * Under two-phase commit an order's record is whole once both participants acknowledged its decision (the log's
 * second entry for it), which a replica may apply a moment after it answered with the first: compared before, the
 * replicas would differ in `finished` alone.
 */
export function settledLedgers(
  clients: Record<string, Client<typeof OrderExecutorDefinition>>,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Record<string, Execution[]>> {
  return waitFor(
    'every replica to execute every order and finish its commit',
    async () => {
      const all: Record<string, Execution[]> = {};
      for (const [id, client] of Object.entries(clients)) all[id] = (await client.executions({ orderIds: [] })).executions;
      const complete = Object.values(all).every((list) => ids.every((orderId) => list.some((e) => e.orderId === orderId)));
      const finished = Object.values(all).every((list) => list.every((e) => !e.commit || e.commit.finished));
      return complete && finished ? all : undefined;
    },
    timeoutMs,
  );
}
