import { checkoutRequestSchema, type CheckoutRequest } from './schema';

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
