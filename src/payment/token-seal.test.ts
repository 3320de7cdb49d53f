import { TokenSeal } from './token-seal';

const key = Buffer.alloc(32, 7);
const record = { maskedCard: '**** 4242', declined: false, createdAtMs: 1_764_000_000_123 };

describe('TokenSeal', () => {
  it('opens what it sealed: the masked card, the decline flag and the time of issue', () => {
    const seal = new TokenSeal(key);
    for (const r of [record, { ...record, declined: true, maskedCard: '**** 0002' }]) {
      const token = seal.seal(r);
      expect(token).toMatch(/^tok_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
      expect(seal.open(token)).toEqual({ token, ...r });
    }
  });

  it('issues a different token each time, even for the same card at the same moment', () => {
    const seal = new TokenSeal(key);
    const tokens = new Set(Array.from({ length: 100 }, () => seal.seal(record)));
    expect(tokens.size).toBe(100);
  });

  it('opens nothing sealed with another key', () => {
    const token = new TokenSeal(key).seal(record);
    expect(new TokenSeal(Buffer.alloc(32, 8)).open(token)).toBeUndefined();
  });

  it('opens no altered token: not a flipped decline flag, not another card, not a cut MAC', () => {
    const seal = new TokenSeal(key, () => Buffer.alloc(9, 1));
    const token = seal.seal(record);
    const [payloadText, macText] = token.slice('tok_'.length).split('.');
    const payload = Buffer.from(payloadText, 'base64url');
    const declined = Buffer.from(payload);
    declined[0] = 1;
    const otherCard = Buffer.from(payload);
    otherCard.write('**** 1111', 18, 'utf8');
    expect(seal.open(`tok_${declined.toString('base64url')}.${macText}`)).toBeUndefined();
    expect(seal.open(`tok_${otherCard.toString('base64url')}.${macText}`)).toBeUndefined();
    expect(seal.open(`tok_${payloadText}.${macText.slice(0, -2)}`)).toBeUndefined();
    // The same bytes spelled another way (a character base64url decoding skips) are not the token either.
    expect(seal.open(`tok_${payloadText}.${macText}=`)).toBeUndefined();
    expect(seal.open(token)).toBeDefined();
  });

  it('opens nothing that is not a token: random names (as tokens used to be), empty or cut strings', () => {
    const seal = new TokenSeal(key);
    for (const t of ['', 'tok_', 'tok_.', 'tok_abc', 'tok_abc.def', 'x'.repeat(80), 'tok_Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg']) expect(seal.open(t)).toBeUndefined();
  });

  it('refuses a key too short to trust', () => {
    expect(() => new TokenSeal(Buffer.alloc(8))).toThrow(/16 bytes/);
  });
});
