/**
 * JSON Schema of POST /checkout (the OpenAPI CheckoutRequest, plus the course
 * page's `termsAccepted`). It checks shape and types only; business rules (empty
 * cart, blank name, bad card) belong to the events, which answer with a 200
 * rejection. Lengths are bounded so one request cannot make the services work
 * on megabytes of text.
 */
const text = (maxLength = 256) => ({ type: 'string', maxLength }) as const;
const object = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', properties, required }) as const;

export const checkoutRequestSchema = object(
  {
    user: object({ name: text(), contact: text() }),
    creditCard: object({ number: text(32), expirationDate: text(16), cvv: text(8) }),
    userComment: text(2000),
    items: {
      type: 'array',
      maxItems: 100,
      items: object({
        name: text(),
        // int32 on the wire; larger numbers are not well-formed quantities.
        quantity: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
      }),
    },
    discountCode: text(64),
    shippingMethod: text(64),
    giftMessage: text(1000),
    billingAddress: object({ street: text(), city: text(), state: text(), zip: text(32), country: text() }),
    giftWrapping: { type: 'boolean' },
    termsAndConditionsAccepted: { type: 'boolean' },
    termsAccepted: { type: 'boolean' },
    notificationPreferences: { type: 'array', maxItems: 10, items: text(64) },
    device: object({ type: text(64), model: text(64), os: text(64) }),
    browser: object({ name: text(64), version: text(64) }),
    appVersion: text(64),
    screenResolution: text(64),
    referrer: text(2000),
    deviceLanguage: text(64),
  },
  ['user', 'creditCard', 'items'],
);

export interface CheckoutRequest {
  user: { name?: string; contact?: string };
  creditCard: { number?: string; expirationDate?: string; cvv?: string };
  items: { name?: string; quantity?: number }[];
  shippingMethod?: string;
  billingAddress?: { street?: string; city?: string; state?: string; zip?: string; country?: string };
  giftWrapping?: boolean;
  termsAndConditionsAccepted?: boolean;
  termsAccepted?: boolean;
}
