/** Injection tokens of the order executor's composition root (main.ts) for values several classes use. */
import { RAFT_NODE_ID, RAFT_PEER_ADDRESSES } from '../platform/raft-host/tokens';

/** This executor's id: the Raft host's node id. */
export const EXECUTOR_ID = RAFT_NODE_ID;
/** Every executor, this one included: id → host:port (the Raft host's peers). */
export const PEER_ADDRESSES = RAFT_PEER_ADDRESSES;
/** The order queue's client (not traced per call: an idle leader long-polls). */
export const ORDER_QUEUE_CLIENT = Symbol('OrderQueueClient');
