import {
  ConfigError,
  readDataDir,
  readExecutorPeers,
  readInt,
  readList,
  readProcessConfig,
  readRpcDeadlineMs,
  readServicePort,
  type Env,
  type ProcessConfig,
} from '../platform/config';
import { DEFAULT_DECLINED_CARDS, parseDeclineList } from './card';

/**
 * The payment service's settings:
 * - PAYMENT_PORT: its gRPC port (50075);
 * - PAYMENT_DATA_DIR: where payment.db lives (default `$CAUSEWAY_DATA_DIR/payment`);
 * - PAYMENT_DECLINED_CARDS: card numbers to decline, comma-separated, spaces and hyphens allowed (default the test
 *   number 4000000000000002; set but empty: decline none);
 * - PAYMENT_DECISION_TIMEOUT_MS: how long a hold waits for its decision before asking the executors (10,000);
 * - PAYMENT_DECISION_RETRY_MS: how long after a "pending" answer it asks again (2,000);
 * - EXECUTOR_PEERS: the executors it asks (GetDecision); CAUSEWAY_RPC_DEADLINE_MS: the deadline of one such call.
 */
export interface PaymentConfig extends ProcessConfig {
  port: number;
  dataDir: string;
  declinedCards: Set<string>;
  decisionTimeoutMs: number;
  decisionRetryMs: number;
  executors: Record<string, string>;
  rpcDeadlineMs: number;
}

export function loadPaymentConfig(env: Env = process.env): PaymentConfig {
  const declined = parseDeclineList(readList(env, 'PAYMENT_DECLINED_CARDS', DEFAULT_DECLINED_CARDS));
  // The entry is named by its position: its text may be a card number.
  if ('badEntry' in declined) throw new ConfigError(`PAYMENT_DECLINED_CARDS entry ${declined.badEntry} is not a card number (12 to 19 digits)`);
  return {
    ...readProcessConfig(env),
    port: readServicePort(env, 'payment'),
    dataDir: readDataDir(env, 'PAYMENT_DATA_DIR', 'payment'),
    declinedCards: declined.cards,
    decisionTimeoutMs: readInt(env, 'PAYMENT_DECISION_TIMEOUT_MS', 10_000, 1),
    decisionRetryMs: readInt(env, 'PAYMENT_DECISION_RETRY_MS', 2000, 1),
    executors: readExecutorPeers(env),
    rpcDeadlineMs: readRpcDeadlineMs(env),
  };
}
