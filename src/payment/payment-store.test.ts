import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PaymentLedger } from './ledger';
import { PaymentState } from './payment-state';
import { PAYMENT_DB, PaymentStore } from './payment-store';
import { TokenSeal } from './token-seal';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-payment-store-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function ledger(store: PaymentStore, onStoreFailure: (err: Error) => void = () => undefined) {
  const seal = new TokenSeal(store.tokenKey());
  return new PaymentLedger({ state: new PaymentState(store.load(), seal), store, time: { now: () => 1000 }, seal, declinedCards: new Set(['4000000000000002']), onStoreFailure });
}

describe('PaymentStore', () => {
  it('gives back after a reopen exactly what the ledger recorded: tokens, transactions and the fence', () => {
    const store = PaymentStore.open(dir);
    const before = ledger(store);
    const good = before.tokenize('4242 4242 4242 4242', '12/30').token;
    const bad = before.tokenize('4000000000000002', '12/30').token;
    before.prepareBatch([
      { txId: 'ord_1', token: good, amountCents: 100, term: 4 },
      { txId: 'ord_2', token: bad, amountCents: 200, term: 4 },
      { txId: 'ord_3', token: good, amountCents: 300, term: 4 },
    ]);
    before.finishBatch([
      { txId: 'ord_1', commit: true },
      { txId: 'ord_3', commit: false },
      { txId: 'ord_4', commit: false },
    ]);
    store.close();
    const reopened = PaymentStore.open(dir);
    // The sealing key is kept: the tokens issued before the reopen still open.
    const after = new PaymentState(reopened.load(), new TokenSeal(reopened.tokenKey()));
    const sorted = (s: PaymentState) => JSON.stringify({ ...s.snapshot(), txs: [...s.snapshot().txs].sort((a, b) => a.txId.localeCompare(b.txId)) });
    expect(sorted(after)).toEqual(sorted(before.state));
    expect(after.fence).toBe(4);
    expect(after.token(bad)).toMatchObject({ declined: true, maskedCard: '**** 0002' });
    reopened.close();
  });

  it('writes nothing to tokenize a card: the token carries its record', () => {
    const store = PaymentStore.open(dir);
    const l = ledger(store);
    const write = jest.spyOn(store, 'write');
    const { token } = l.tokenize('4242 4242 4242 4242', '12/30');
    expect(write).not.toHaveBeenCalled();
    expect(l.prepareBatch([{ txId: 'ord_1', token, amountCents: 100, term: 1 }])).toEqual([expect.objectContaining({ vote: 'YES' })]);
    expect(write).toHaveBeenCalledTimes(1);
    store.close();
  });

  it('honours a token stored before tokens were sealed: its row opens it after a reopen', () => {
    PaymentStore.open(dir).close();
    // Written the way the store wrote tokens before they were sealed: a row of its own.
    const db = new Database(path.join(dir, PAYMENT_DB));
    db.prepare('INSERT INTO tokens (token, masked_card, declined, created_at_ms) VALUES (?, ?, ?, ?)').run('tok_0123456789abcdef', '**** 0002', 1, 5);
    db.close();

    const store = PaymentStore.open(dir);
    const l = ledger(store);
    expect(l.state.token('tok_0123456789abcdef')).toEqual({ token: 'tok_0123456789abcdef', maskedCard: '**** 0002', declined: true, createdAtMs: 5 });
    expect(l.prepareBatch([{ txId: 'ord_1', token: 'tok_0123456789abcdef', amountCents: 100, term: 1 }])).toEqual([expect.objectContaining({ vote: 'DECLINED' })]);
    expect(l.prepareBatch([{ txId: 'ord_2', token: 'tok_0123456789abcdeg', amountCents: 100, term: 1 }])).toEqual([expect.objectContaining({ vote: 'UNKNOWN_TOKEN' })]);
    store.close();
  });

  it('keeps no card number: not in the file, not in the WAL', () => {
    const store = PaymentStore.open(dir);
    const l = ledger(store);
    const { token } = l.tokenize('4242-4242-4242-4242', '12/30');
    l.prepareBatch([{ txId: 'ord_1', token, amountCents: 100, term: 1 }]);
    const bytes = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)));
    expect(fs.readdirSync(dir)).toContain(PAYMENT_DB);
    for (const b of bytes) for (const s of ['4242424242424242', '4242-4242-4242-4242']) expect(b.includes(s)).toBe(false);
    expect(bytes.some((b) => b.includes('**** 4242'))).toBe(true);
    store.close();
  });

  it('stops the ledger when a write fails: onStoreFailure hears of it before the caller gets the error', () => {
    const store = PaymentStore.open(dir);
    const failures: string[] = [];
    const l = ledger(store, (err) => void failures.push(err.message));
    const { token } = l.tokenize('4242424242424242', '12/30');
    store.close();
    expect(() => l.prepareBatch([{ txId: 'ord_1', token, amountCents: 100, term: 1 }])).toThrow();
    expect(failures).toHaveLength(1);
  });
});
