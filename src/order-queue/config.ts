import { readDataDir, readLeaseMs, readProcessConfig, readServicePort, type Env, type ProcessConfig } from '../platform/config';

/** The order queue's settings. */
export interface OrderQueueConfig extends ProcessConfig {
  /** gRPC port (ORDER_QUEUE_PORT). */
  port: number;
  /** Where the queue keeps its journal. */
  dataDir: string;
  /** Visibility timeout of a lease when a Dequeue asks for none. */
  leaseMs: number;
}

export function loadOrderQueueConfig(env: Env = process.env): OrderQueueConfig {
  return {
    ...readProcessConfig(env),
    port: readServicePort(env, 'order-queue'),
    dataDir: readDataDir(env, 'ORDER_QUEUE_DATA_DIR', 'order-queue'),
    leaseMs: readLeaseMs(env),
  };
}
