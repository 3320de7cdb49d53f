/** Injection tokens of the order executor's composition root (main.ts) for values several classes use. */
export const EXECUTOR_ID = Symbol('ExecutorId');
/** Every executor, this one included: id → host:port. */
export const PEER_ADDRESSES = Symbol('PeerAddresses');
/** The order queue's client (not traced per call: an idle leader long-polls). */
export const ORDER_QUEUE_CLIENT = Symbol('OrderQueueClient');
