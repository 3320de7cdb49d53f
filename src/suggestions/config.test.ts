import { loadSuggestionsConfig } from './config';

describe('suggestions config', () => {
  it('suggests 3 books by default, from 1 to 20', () => {
    expect(loadSuggestionsConfig({}).suggestionCount).toBe(3);
    expect(loadSuggestionsConfig({ SUGGESTIONS_COUNT: '5' }).suggestionCount).toBe(5);
    expect(() => loadSuggestionsConfig({ SUGGESTIONS_COUNT: '21' })).toThrow('SUGGESTIONS_COUNT="21" must be an integer in [1, 20]');
  });

  it('listens on SUGGESTIONS_PORT and forgets orders never cleared after CAUSEWAY_ORDER_TTL_MS', () => {
    expect(loadSuggestionsConfig({}).participant).toEqual({ host: '127.0.0.1', logLevel: 'info', port: 50053, rpcDeadlineMs: 3000, orderTtlMs: 120_000, orderArrivalWaitMs: 1000 });
    const { participant } = loadSuggestionsConfig({ SUGGESTIONS_PORT: '0', CAUSEWAY_ORDER_TTL_MS: '1000' });
    expect([participant.port, participant.orderTtlMs]).toEqual([0, 1000]);
    expect(() => loadSuggestionsConfig({ CAUSEWAY_ORDER_TTL_MS: '0' })).toThrow('CAUSEWAY_ORDER_TTL_MS="0"');
  });

  it('starts whatever is wrong in the settings of other services', () => {
    const config = loadSuggestionsConfig({
      EXECUTOR_ID: 'nope',
      FRAUD_DETECTION_ADDRESS: 'nowhere',
      FRAUD_BLOCKED_USERS: ',,,',
      FRAUD_MAX_ITEM_QUANTITY: 'lots',
      ORDER_QUEUE_PORT: '99999',
    });
    expect(config.participant.port).toBe(50053);
  });
});
