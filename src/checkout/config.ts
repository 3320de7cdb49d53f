import {
  readInt,
  readProcessConfig,
  readRpcDeadlineMs,
  readServicePort,
  type CheckoutServiceName,
  type Env,
  type ProcessConfig,
} from '../platform/config';

/** What each of the three checkout services reads for the part they share (ParticipantRoot). */
export interface ParticipantConfig extends ProcessConfig {
  /** This service's gRPC port (`<SERVICE>_PORT`). */
  port: number;
  rpcDeadlineMs: number;
  /** A cached order that was never cleared is forgotten after this long. */
  orderTtlMs: number;
  /** How long an event's call waits for its order's InitOrder before answering NOT_FOUND (order-arrivals.ts). */
  orderArrivalWaitMs: number;
}

export function loadParticipantConfig(service: CheckoutServiceName, env: Env): ParticipantConfig {
  return {
    ...readProcessConfig(env),
    port: readServicePort(env, service),
    rpcDeadlineMs: readRpcDeadlineMs(env),
    orderTtlMs: readInt(env, 'CAUSEWAY_ORDER_TTL_MS', 120_000, 1),
    orderArrivalWaitMs: readInt(env, 'CAUSEWAY_ORDER_ARRIVAL_WAIT_MS', 1000, 0),
  };
}
