/**
 * The seed's checkout events and the order they run in. Pure data.
 *
 *   A → B → D → C → E → F
 *
 * A, B, C at transaction-verification; D, E at fraud-detection; F at suggestions.
 */
import { CHECKOUT_SERVICES, type CheckoutServiceName } from '../platform/config';

/** The processes of the vector clock, in the seed's order: (tv, fd, sg). */
export const CLOCK_PROCESSES: readonly CheckoutServiceName[] = CHECKOUT_SERVICES;

export type EventName = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface EventDefinition {
  service: CheckoutServiceName;
  title: string;
}

export const EVENTS: Readonly<Record<EventName, EventDefinition>> = {
  A: { service: 'transaction-verification', title: 'order items are present' },
  B: { service: 'transaction-verification', title: 'mandatory user data is filled in' },
  C: { service: 'transaction-verification', title: 'credit card format is valid' },
  D: { service: 'fraud-detection', title: 'user data shows no fraud' },
  E: { service: 'fraud-detection', title: 'credit card shows no fraud' },
  F: { service: 'suggestions', title: 'book suggestions generated' },
};

