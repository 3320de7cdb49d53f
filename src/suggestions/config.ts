import { loadParticipantConfig, type ParticipantConfig } from '../checkout/config';
import { readInt, type Env } from '../platform/config';

/** suggestions' settings: the checkout participant's, and how many books event F suggests. */
export interface SuggestionsConfig {
  participant: ParticipantConfig;
  /** SUGGESTIONS_COUNT: books suggested per approved order. */
  suggestionCount: number;
}

export function loadSuggestionsConfig(env: Env = process.env): SuggestionsConfig {
  return {
    participant: loadParticipantConfig('suggestions', env),
    suggestionCount: readInt(env, 'SUGGESTIONS_COUNT', 3, 1, 20),
  };
}
