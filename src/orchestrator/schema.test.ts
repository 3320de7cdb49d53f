import { checkoutRequestSchema, setStockRequestSchema, type CheckoutRequest, type SetStockBody } from './schema';

/** Compile-time checks: `npx tsc -p tsconfig.test.json` fails if the derived type is wrong. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const derived: [
  Equal<CheckoutRequest['user'], { name?: string; contact?: string }>,
  Equal<CheckoutRequest['items'], { name?: string; quantity?: number }[]>,
  Equal<CheckoutRequest['billingAddress'], { street?: string; city?: string; state?: string; zip?: string; country?: string } | undefined>,
  Equal<CheckoutRequest['termsAccepted'], boolean | undefined>,
  Equal<CheckoutRequest['notificationPreferences'], string[] | undefined>,
  Equal<Extract<keyof CheckoutRequest, 'user' | 'creditCard' | 'items'>, 'user' | 'creditCard' | 'items'>,
] = [true, true, true, true, true, true];

// @ts-expect-error the schema requires user
const noUser: CheckoutRequest = { creditCard: {}, items: [] };
// @ts-expect-error the schema has no such property
const unknownField: CheckoutRequest = { user: {}, creditCard: {}, items: [], coupon: 'x' };

describe('the POST /checkout schema and its derived type', () => {
  it('require the same properties', () => {
    expect(derived.every(Boolean)).toBe(true);
    expect(checkoutRequestSchema.required).toEqual(['user', 'creditCard', 'items']);
    expect(checkoutRequestSchema.properties.user.required).toEqual([]);
    expect([noUser, unknownField]).toHaveLength(2);
  });
});

/**
 * Our additions to the course's API (not in its OpenAPI contract, which stays read-only): GET /books answers
 * BookView (api-types.ts); PUT /books/:bookId/stock takes this body, behind CAUSEWAY_ADMIN_TOKEN (README, "Stock over
 * HTTP"); GET /cluster adds booksDatabase; GET /orders/:id adds state 'failed' with failure {code, message}.
 */
const setStockDerived: Equal<SetStockBody, { stock: number }> = true;
// @ts-expect-error the stock is required
const noStock: SetStockBody = {};

describe('the PUT /books/:bookId/stock schema', () => {
  it('takes exactly one integer stock within the database’s bound', () => {
    expect(setStockDerived).toBe(true);
    expect(noStock).toEqual({});
    expect(setStockRequestSchema).toEqual({
      type: 'object',
      properties: { stock: { type: 'integer', minimum: 0, maximum: 1_000_000_000 } },
      required: ['stock'],
      additionalProperties: false,
    });
  });
});
