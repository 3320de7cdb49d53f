import { loadConfig } from './config';

describe('loadConfig', () => {
  it('binds loopback unless CAUSEWAY_HOST says otherwise (containers set 0.0.0.0)', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ CAUSEWAY_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });
});
