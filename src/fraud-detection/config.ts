import { loadParticipantConfig, type ParticipantConfig } from '../checkout/config';
import { readInt, readList, readServiceAddress, type Env } from '../platform/config';

export interface VelocityLimit {
  /** At most this many orders inside the window are allowed; one more is rejected. */
  limit: number;
  windowMs: number;
}

/** The thresholds and lists of events D and E (FraudRules). */
export interface FraudRulesConfig {
  contactVelocity: VelocityLimit;
  cardVelocity: VelocityLimit;
  maxItemQuantity: number;
  /** Contacts or names event D rejects, lower case. */
  blockedUsers: string[];
  /** E-mail domains event D rejects (and their subdomains), lower case. */
  disposableDomains: string[];
}

/** fraud-detection's settings: the checkout participant's, where it hands off to (D→C, E→F), and its rules. */
export interface FraudDetectionConfig {
  participant: ParticipantConfig;
  transactionVerificationAddress: string;
  suggestionsAddress: string;
  rules: FraudRulesConfig;
}

const DISPOSABLE_DOMAINS = [
  'mailinator.com',
  'guerrillamail.com',
  '10minutemail.com',
  'yopmail.com',
  'trashmail.com',
  'temp-mail.org',
  'sharklasers.com',
  'dispostable.com',
  'throwawaymail.com',
  'getnada.com',
];

export function loadFraudRulesConfig(env: Env): FraudRulesConfig {
  return {
    contactVelocity: {
      limit: readInt(env, 'FRAUD_CONTACT_VELOCITY_LIMIT', 30, 1),
      windowMs: readInt(env, 'FRAUD_CONTACT_VELOCITY_WINDOW_MS', 60_000, 1),
    },
    cardVelocity: {
      limit: readInt(env, 'FRAUD_CARD_VELOCITY_LIMIT', 30, 1),
      windowMs: readInt(env, 'FRAUD_CARD_VELOCITY_WINDOW_MS', 60_000, 1),
    },
    maxItemQuantity: readInt(env, 'FRAUD_MAX_ITEM_QUANTITY', 100, 1),
    blockedUsers: readList(env, 'FRAUD_BLOCKED_USERS', ['blocked@example.com']).map((u) => u.toLowerCase()),
    disposableDomains: readList(env, 'FRAUD_DISPOSABLE_DOMAINS', DISPOSABLE_DOMAINS).map((d) => d.toLowerCase()),
  };
}

export function loadFraudDetectionConfig(env: Env = process.env): FraudDetectionConfig {
  return {
    participant: loadParticipantConfig('fraud-detection', env),
    transactionVerificationAddress: readServiceAddress(env, 'transaction-verification'),
    suggestionsAddress: readServiceAddress(env, 'suggestions'),
    rules: loadFraudRulesConfig(env),
  };
}
