import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TOKEN_KEY_BYTES } from './token-seal';
import type { Change, PaymentSnapshot, TokenRecord, TxRecord, TxState } from './payment-state';

/**
 * The payment service's durable records in one SQLite file (payment.db): one row per transaction, the fence, the
 * token-sealing key and the tokens issued before tokens were sealed. WAL with synchronous=FULL: `write` returns after
 * the commit is fsynced, so a vote or a capture is on disk before the caller answers, and survives power loss, not
 * only a crash.
 *
 * The card number is not a column: a token row holds the token, the masked card and the decline flag only. New
 * tokens are sealed (token-seal.ts) and not stored at all; the rows are those issued before, still honoured. The
 * sealing key is here too: losing the file loses the transactions' records anyway, and with them any use of a token.
 */

export const PAYMENT_DB = 'payment.db';

/** The schema's history: MIGRATIONS[v] takes a database at `PRAGMA user_version` v to v + 1. Append, never edit. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tokens (
     token         TEXT PRIMARY KEY,
     masked_card   TEXT NOT NULL,
     declined      INTEGER NOT NULL CHECK (declined IN (0, 1)),
     created_at_ms INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE txs (
     tx_id          TEXT PRIMARY KEY,
     state          TEXT NOT NULL CHECK (state IN ('held', 'captured', 'voided', 'declined', 'aborted')),
     amount_cents   INTEGER NOT NULL,
     token          TEXT NOT NULL,
     masked_card    TEXT NOT NULL,
     term           INTEGER NOT NULL,
     prepared_at_ms INTEGER NOT NULL,
     updated_at_ms  INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE fence (
     id   INTEGER PRIMARY KEY CHECK (id = 0),
     term INTEGER NOT NULL
   ) STRICT;
   INSERT INTO fence (id, term) VALUES (0, 0);`,
  // The key that seals tokens (token-seal.ts); its one row is written by tokenKey() on first use.
  `CREATE TABLE token_key (
     id  INTEGER PRIMARY KEY CHECK (id = 0),
     key BLOB NOT NULL
   ) STRICT;`,
];

interface TxRow {
  tx_id: string;
  state: TxState;
  amount_cents: number;
  token: string;
  masked_card: string;
  term: number;
  prepared_at_ms: number;
  updated_at_ms: number;
}

interface TokenRow {
  token: string;
  masked_card: string;
  declined: number;
  created_at_ms: number;
}

export class PaymentStore {
  private readonly putTx: Database.Statement;
  private readonly putFence: Database.Statement;
  private readonly writeAll: (changes: readonly Change[]) => void;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {
    this.putTx = db.prepare(
      `INSERT INTO txs (tx_id, state, amount_cents, token, masked_card, term, prepared_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tx_id) DO UPDATE SET state = excluded.state, amount_cents = excluded.amount_cents, token = excluded.token,
         masked_card = excluded.masked_card, term = excluded.term, prepared_at_ms = excluded.prepared_at_ms, updated_at_ms = excluded.updated_at_ms`,
    );
    this.putFence = db.prepare('UPDATE fence SET term = ? WHERE id = 0');
    this.writeAll = db.transaction((changes: readonly Change[]) => {
      for (const c of changes) {
        if (c.kind === 'fence') this.putFence.run(c.term);
        else {
          const t = c.tx;
          this.putTx.run(t.txId, t.state, t.amountCents, t.token, t.maskedCard, t.term, t.preparedAtMs, t.updatedAtMs);
        }
      }
    });
  }

  /** Opens (creating) `<dir>/payment.db`, migrated to the current schema. */
  static open(dir: string): PaymentStore {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, PAYMENT_DB);
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length) throw new Error(`${file} has schema version ${version}, newer than this build's ${MIGRATIONS.length}`);
      for (let v = version; v < MIGRATIONS.length; v++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[v]);
          db.pragma(`user_version = ${v + 1}`);
        })();
      }
      return new PaymentStore(db, file);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The key tokens are sealed with: created (random, fsynced) the first time, then the same for good. */
  tokenKey(): Buffer {
    const row = this.db.prepare('SELECT key FROM token_key WHERE id = 0').get() as { key: Buffer } | undefined;
    if (row) return row.key;
    const key = randomBytes(TOKEN_KEY_BYTES);
    this.db.prepare('INSERT INTO token_key (id, key) VALUES (0, ?)').run(key);
    return key;
  }

  load(): PaymentSnapshot {
    const tokens = (this.db.prepare('SELECT * FROM tokens').all() as TokenRow[]).map(
      (r): TokenRecord => ({ token: r.token, maskedCard: r.masked_card, declined: r.declined === 1, createdAtMs: r.created_at_ms }),
    );
    const txs = (this.db.prepare('SELECT * FROM txs').all() as TxRow[]).map(
      (r): TxRecord => ({
        txId: r.tx_id,
        state: r.state,
        amountCents: r.amount_cents,
        token: r.token,
        maskedCard: r.masked_card,
        term: r.term,
        preparedAtMs: r.prepared_at_ms,
        updatedAtMs: r.updated_at_ms,
      }),
    );
    const fence = (this.db.prepare('SELECT term FROM fence WHERE id = 0').get() as { term: number }).term;
    return { tokens, txs, fence };
  }

  /** All the changes in one transaction, fsynced before this returns. */
  write(changes: readonly Change[]): void {
    if (changes.length > 0) this.writeAll(changes);
  }

  close(): void {
    this.db.close();
  }
}
