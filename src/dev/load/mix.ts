/**
 * What `npm run load` sends: a mix of order kinds, each a checkout body built from a seeded random source, so a
 * run can be replayed. Pure: load.ts does the I/O.
 *
 *   good        an order a customer would place: one to three catalog books, its own customer and card
 *   same-book   one copy of the same book every time: customers racing for its stock
 *   fraud       a customer on the fraud rules' block list: rejected at event D
 *   declined    the payment service's documented declined test card: approved at checkout, then failed by payment
 *   invalid     a card number that fails the Luhn check: rejected at event B
 */

export const ORDER_KINDS = ['good', 'same-book', 'fraud', 'declined', 'invalid'] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

/** Kind → weight (how many of every hundred, or any positive proportions). */
export type Mix = ReadonlyMap<OrderKind, number>;

export const DEFAULT_MIX: Mix = new Map([['good', 1]]);

/** The payment service's default declined test card (PAYMENT_DECLINED_CARDS). */
export const DECLINED_TEST_CARD = '4000000000000002';
/** The fraud rules' default blocked customer (FRAUD_BLOCKED_USERS). */
export const BLOCKED_CONTACT = 'blocked@example.com';

/** Parses `good=70,fraud=10,declined=20` (weights are proportions; a bare kind counts 1). Throws on anything else. */
export function parseMix(text: string): Mix {
  const mix = new Map<OrderKind, number>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, weightText, ...rest] = part.split('=');
    if (rest.length) throw new Error(`--mix: "${part}" is not kind=weight`);
    if (!(ORDER_KINDS as readonly string[]).includes(name)) throw new Error(`--mix: unknown kind "${name}" (kinds: ${ORDER_KINDS.join(', ')})`);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!Number.isFinite(weight) || weight < 0) throw new Error(`--mix: the weight of "${name}" must be a number ≥ 0`);
    if (mix.has(name as OrderKind)) throw new Error(`--mix: "${name}" is given twice`);
    mix.set(name as OrderKind, weight);
  }
  const total = [...mix.values()].reduce((a, b) => a + b, 0);
  if (total <= 0) throw new Error('--mix: give at least one kind a weight above 0');
  return mix;
}

/** The kind of the next order, drawn by weight. */
export function pickKind(mix: Mix, random: () => number): OrderKind {
  const total = [...mix.values()].reduce((a, b) => a + b, 0);
  let roll = random() * total;
  let last: OrderKind = 'good';
  for (const [kind, weight] of mix) {
    if (weight <= 0) continue;
    last = kind;
    if (roll < weight) return kind;
    roll -= weight;
  }
  return last;
}

/** A Luhn check digit for `digits`. */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** A random 16-digit Luhn-valid Visa-like test number that is never the declined test card. */
export function randomCard(random: () => number): string {
  for (;;) {
    let body = '4';
    for (let i = 0; i < 14; i++) body += Math.floor(random() * 10);
    const card = body + luhnCheckDigit(body);
    if (card !== DECLINED_TEST_CARD) return card;
  }
}

/**
 * The checkout body of order `n` of this kind. `titles`: the catalog's titles (from GET /books); `sameBook`: the
 * title the same-book kind races for. Each good order has a customer and card of its own, so the fraud rules'
 * velocity limits (30 a minute per contact and per card by default) do not reject a sustained load.
 */
export function checkoutBody(kind: OrderKind, n: number, random: () => number, titles: readonly string[], sameBook: string): Record<string, unknown> {
  const pick = () => titles[Math.floor(random() * titles.length)];
  const items =
    kind === 'same-book'
      ? [{ name: sameBook, quantity: 1 }]
      : Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, pick))).map((name) => ({ name, quantity: 1 }));
  const card = kind === 'declined' ? DECLINED_TEST_CARD : kind === 'invalid' ? '4111111111111112' : randomCard(random);
  return {
    user: { name: `Load Customer ${n}`, contact: kind === 'fraud' ? BLOCKED_CONTACT : `load-${n}-${Math.floor(random() * 1e9)}@example.com` },
    creditCard: { number: card, expirationDate: '12/30', cvv: '123' },
    userComment: `npm run load: ${kind}`,
    items,
    billingAddress: { street: '1 Load St', city: 'Springfield', state: 'IL', zip: '62701', country: 'USA' },
    shippingMethod: 'Standard',
    giftWrapping: false,
    termsAccepted: true,
  };
}

/** One answered (or failed) request, as the summary counts it. */
export interface Answer {
  kind: OrderKind;
  /** HTTP status, 0 when the request failed or timed out. */
  status: number;
  /** The checkout's status ("Order Approved", "Order Rejected") or the error code. */
  outcome: string;
  latencyMs: number;
  orderId?: string;
}

/** "approved", "rejected: CARD_INVALID", "HTTP 503: SERVICE_UNAVAILABLE", "no answer": how an answer is counted. */
export function outcomeOf(status: number, body: unknown): string {
  if (status === 0) return 'no answer';
  const b = body as { status?: string; rejection?: { code?: string }; error?: { code?: string } } | undefined;
  if (status === 200 && b?.status === 'Order Approved') return 'approved';
  if (status === 200 && b?.status === 'Order Rejected') return `rejected: ${b.rejection?.code ?? '?'}`;
  return `HTTP ${status}${b?.error?.code ? `: ${b.error.code}` : ''}`;
}

/** Counts by key, sorted by count (then key), for the summary. */
export function countBy<T>(items: readonly T[], key: (t: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
