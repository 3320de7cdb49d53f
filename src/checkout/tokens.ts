/** Injection tokens shared by the checkout services' composition roots. */
export const ORDER_CACHE = Symbol('OrderCache');
export const ORDER_ARRIVALS = Symbol('OrderArrivals');
export const TRANSACTION_VERIFICATION_CLIENT = Symbol('TransactionVerificationClient');
export const FRAUD_DETECTION_CLIENT = Symbol('FraudDetectionClient');
export const SUGGESTIONS_CLIENT = Symbol('SuggestionsClient');
