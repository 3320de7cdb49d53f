import { loadParticipantConfig, type ParticipantConfig } from '../checkout/config';
import { readServiceAddress, type Env } from '../platform/config';

/** transaction-verification's settings: the checkout participant's, and where fraud-detection is (B→D, C→E). */
export interface TransactionVerificationConfig {
  participant: ParticipantConfig;
  fraudDetectionAddress: string;
}

export function loadTransactionVerificationConfig(env: Env = process.env): TransactionVerificationConfig {
  return {
    participant: loadParticipantConfig('transaction-verification', env),
    fraudDetectionAddress: readServiceAddress(env, 'fraud-detection'),
  };
}
