import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRecord } from './payment-state';

/**
 * Tokens that carry their own record, sealed with a key only the payment service holds.
 *
 * A token used to be a random name for a row (token, masked card, declined) that Tokenize wrote and fsynced before
 * it answered: a disk flush on every checkout's critical path, on the payment service's event loop, for a record
 * nobody reads until the order's Prepare. Now the record travels inside the token, with a MAC: Prepare checks the
 * MAC and reads the record back, so Tokenize writes nothing and a token that was never issued here (or was
 * altered) still gets UNKNOWN_TOKEN. The record holds no more than the queued order already carries in the clear
 * (the masked card), plus the decline flag, which only this service can vouch for.
 *
 * Layout: `tok_` + base64url(payload) + `.` + base64url(first 16 bytes of HMAC-SHA256(key, DOMAIN ‖ payload)), the
 * payload being: declined (1 byte), the time of issue in ms (8 bytes, big-endian), a nonce (9 bytes), the masked
 * card (UTF-8). The nonce makes each token unique, as the random names were.
 */

const PREFIX = 'tok_';
const DOMAIN = Buffer.from('causeway payment token v1\0');
const MAC_BYTES = 16;
const NONCE_BYTES = 9;
const FIXED_BYTES = 1 + 8 + NONCE_BYTES;
/** The key's length, in bytes (HMAC-SHA256's block is 64; 32 random bytes are plenty). */
export const TOKEN_KEY_BYTES = 32;

export interface TokenOpener {
  /** The record sealed in `token`, or undefined if it was not sealed with this key (or is not a token at all). */
  open(token: string): TokenRecord | undefined;
}

export class TokenSeal implements TokenOpener {
  constructor(
    private readonly key: Buffer,
    private readonly nonce: () => Buffer = () => randomBytes(NONCE_BYTES),
  ) {
    if (key.length < 16) throw new Error(`a token key must have at least 16 bytes, not ${key.length}`);
  }

  seal(record: Omit<TokenRecord, 'token'>): string {
    const nonce = this.nonce();
    if (nonce.length !== NONCE_BYTES) throw new Error(`a token nonce has ${NONCE_BYTES} bytes, not ${nonce.length}`);
    const payload = Buffer.alloc(FIXED_BYTES + Buffer.byteLength(record.maskedCard));
    payload.writeUInt8(record.declined ? 1 : 0, 0);
    payload.writeBigUInt64BE(BigInt(record.createdAtMs), 1);
    nonce.copy(payload, 9);
    payload.write(record.maskedCard, FIXED_BYTES, 'utf8');
    return `${PREFIX}${payload.toString('base64url')}.${this.mac(payload).toString('base64url')}`;
  }

  open(token: string): TokenRecord | undefined {
    if (!token.startsWith(PREFIX)) return undefined;
    const dot = token.indexOf('.', PREFIX.length);
    if (dot === -1) return undefined;
    const payload = Buffer.from(token.slice(PREFIX.length, dot), 'base64url');
    const mac = Buffer.from(token.slice(dot + 1), 'base64url');
    if (payload.length <= FIXED_BYTES || mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(payload))) return undefined;
    // base64url decoding skips characters outside its alphabet: only the token's canonical spelling is accepted.
    if (`${PREFIX}${payload.toString('base64url')}.${mac.toString('base64url')}` !== token) return undefined;
    const flag = payload.readUInt8(0);
    if (flag > 1) return undefined;
    return {
      token,
      declined: flag === 1,
      createdAtMs: Number(payload.readBigUInt64BE(1)),
      maskedCard: payload.subarray(FIXED_BYTES).toString('utf8'),
    };
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(DOMAIN).update(payload).digest().subarray(0, MAC_BYTES);
  }
}
