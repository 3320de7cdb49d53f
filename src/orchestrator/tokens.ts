/** Injection tokens only the orchestrator's composition root provides (the shared ones are in src/checkout/tokens.ts). */
export const ENQUEUE_BATCHER = Symbol('EnqueueBatcher');
/** What checkout needs of the payment service: a token for the card (PaymentClient provides it). */
export const CARD_TOKENIZER = Symbol('CardTokenizer');
/** The books' prices, for the amount an approved order carries (PriceList). */
export const PRICE_LIST = Symbol('PriceList');
/** The final clock broadcast that clears each order from the checkout services (FinalClockBroadcast). */
export const FINAL_CLOCK_BROADCAST = Symbol('FinalClockBroadcast');
