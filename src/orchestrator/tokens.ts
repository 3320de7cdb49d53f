/** Injection tokens only the orchestrator's composition root provides (the shared ones are in src/checkout/tokens.ts). */
export const ENQUEUE_BATCHER = Symbol('EnqueueBatcher');
