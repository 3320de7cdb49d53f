/**
 * JSON Schema of POST /checkout (the OpenAPI CheckoutRequest, plus the course
 * page's `termsAccepted`). It checks shape and types only; business rules (empty
 * cart, blank name, bad card) belong to the events, which answer with a 200
 * rejection. Lengths are bounded so one request cannot make the services work
 * on megabytes of text. The request's TypeScript type is derived from it
 * (`CheckoutRequest` below), so the two cannot drift.
 */
const text = (maxLength = 256) => ({ type: 'string', maxLength }) as const;
// `required` is kept as a tuple type, so that FromSchema knows which properties are required.
const object = <const Properties extends Record<string, unknown>, const Required extends readonly (keyof Properties & string)[] = []>(
  properties: Properties,
  required: Required = [] as unknown as Required,
) => ({ type: 'object', properties, required }) as const;

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

/**
 * The TypeScript type a JSON schema describes, for the keywords used above:
 * properties listed in `required` are required, every other one is optional.
 */
export type FromSchema<Schema> = Schema extends { type: 'string' }
  ? string
  : Schema extends { type: 'integer' | 'number' }
    ? number
    : Schema extends { type: 'boolean' }
      ? boolean
      : Schema extends { type: 'array'; items: infer Item }
        ? FromSchema<Item>[]
        : Schema extends { type: 'object'; properties: infer Properties; required: readonly (infer Required)[] }
          ? Flatten<
              { [K in keyof Properties & Required]: FromSchema<Properties[K]> } & {
                [K in Exclude<keyof Properties, Required>]?: FromSchema<Properties[K]>;
              }
            >
          : never;

type Flatten<T> = { [K in keyof T]: T[K] };

/** The body of POST /checkout, as the schema admits it (the web app sends it too). */
export type CheckoutRequest = FromSchema<typeof checkoutRequestSchema>;

/**
 * JSON Schema of PUT /books/:bookId/stock (our addition; not in the course's OpenAPI contract): `{"stock": n}`,
 * n an integer in [0, 1,000,000,000] (the books database's own bound), nothing else.
 */
export const setStockRequestSchema = {
  type: 'object',
  properties: { stock: { type: 'integer', minimum: 0, maximum: 1_000_000_000 } },
  required: ['stock'],
  additionalProperties: false,
} as const;

/** The body of PUT /books/:bookId/stock, as the schema admits it. */
export type SetStockBody = FromSchema<typeof setStockRequestSchema>;
