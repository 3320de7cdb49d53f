import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, type Api } from '../api';
import type { Cart } from '../cart';
import { navigate } from '../router';
import { toCheckoutRequest, validate, type FormErrors, type FormValues } from '../validation';
import { cartTotalCents, formatPrice, stockLabel, type Stock } from '../stock';

const INITIAL: FormValues = {
  name: '',
  contact: '',
  street: '',
  city: '',
  state: '',
  zip: '',
  country: '',
  cardNumber: '',
  expiry: '',
  cvv: '',
  terms: false,
};

function Field(props: { id: keyof FormValues; label: string; errors: FormErrors; children: ReactNode; hint?: string }) {
  const error = props.errors[props.id];
  return (
    <div className={`field${error ? ' invalid' : ''}`}>
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      {props.hint && !error && <small id={`${props.id}-hint`}>{props.hint}</small>}
      {error && (
        <small id={`${props.id}-error`} className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function Checkout({ api, cart, stock }: { api: Api; cart: Cart; stock: Stock }) {
  const [values, setValues] = useState<FormValues>(INITIAL);
  const [comment, setComment] = useState('');
  const [shipping, setShipping] = useState('Standard');
  const [gift, setGift] = useState(false);
  const [errors, setErrors] = useState<FormErrors>({});
  const [submitting, setSubmitting] = useState(false);
  const [serverError, setServerError] = useState<string | undefined>();

  const set = (field: keyof FormValues) => (e: { target: HTMLInputElement }) =>
    setValues((v) => ({ ...v, [field]: e.target.type === 'checkbox' ? e.target.checked : e.target.value }));
  const input = (field: Exclude<keyof FormValues, 'terms'>, extra: Record<string, unknown> = {}) => (
    <input
      id={field}
      name={field}
      value={values[field]}
      onChange={set(field)}
      aria-invalid={errors[field] ? true : undefined}
      aria-describedby={errors[field] ? `${field}-error` : undefined}
      {...extra}
    />
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found = validate(values, cart.lines);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      document.getElementById(Object.keys(found)[0])?.focus();
      return;
    }
    setSubmitting(true);
    setServerError(undefined);
    try {
      const result = await api.checkout(toCheckoutRequest(values, cart.lines, { userComment: comment, shippingMethod: shipping, giftWrapping: gift }));
      sessionStorage.setItem(`order:${result.orderId}`, JSON.stringify(result));
      if (result.status === 'Order Approved') cart.clear();
      navigate(`/orders/${result.orderId}`);
    } catch (err) {
      setServerError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <section aria-labelledby="checkout-title">
      <h1 id="checkout-title">Checkout</h1>
      <div className="checkout">
        <aside className="summary" aria-label="Your cart">
          <h2>Your cart</h2>
          {cart.lines.length === 0 ? (
            <p id="items" tabIndex={-1} className={errors.items ? 'field-error' : ''}>
              {errors.items ?? 'Your cart is empty.'} <a href="#/">Browse books</a>
            </p>
          ) : (
            <ul aria-describedby={errors.items ? 'items' : undefined}>
              {cart.lines.map((line) => (
                <li key={line.name}>
                  <span>
                    {line.name}
                    {stock.byTitle.get(line.name) && (
                      <small className="muted">
                        {' '}
                        {formatPrice(stock.byTitle.get(line.name)!.priceCents)} · {stockLabel(stock.byTitle.get(line.name)!.stock)}
                      </small>
                    )}
                  </span>
                  <label className="qty">
                    <span className="visually-hidden">Quantity of {line.name}</span>
                    <input type="number" min={0} max={100} value={line.quantity} onChange={(e) => cart.setQuantity(line.name, Number(e.target.value))} />
                  </label>
                </li>
              ))}
            </ul>
          )}
          {cart.lines.length > 0 && cartTotalCents(cart.lines, stock.byTitle) !== undefined && (
            <p className="cart-total" data-testid="checkout-total">
              Total: <strong>{formatPrice(cartTotalCents(cart.lines, stock.byTitle)!)}</strong>
            </p>
          )}
          {cart.lines.length > 0 && errors.items && (
            <p id="items" tabIndex={-1} className="field-error" role="alert">
              {errors.items}
            </p>
          )}
        </aside>
        <form onSubmit={submit} noValidate aria-describedby={serverError ? 'server-error' : undefined}>
          <fieldset>
            <legend>You</legend>
            <Field id="name" label="Name" errors={errors}>{input('name', { autoComplete: 'name' })}</Field>
            <Field id="contact" label="E-mail or phone" errors={errors}>{input('contact', { autoComplete: 'email' })}</Field>
          </fieldset>
          <fieldset>
            <legend>Billing address</legend>
            <Field id="street" label="Street" errors={errors}>{input('street', { autoComplete: 'street-address' })}</Field>
            <div className="row">
              <Field id="city" label="City" errors={errors}>{input('city', { autoComplete: 'address-level2' })}</Field>
              <Field id="state" label="State (optional)" errors={errors}>{input('state', { autoComplete: 'address-level1' })}</Field>
            </div>
            <div className="row">
              <Field id="zip" label="ZIP / postcode" errors={errors}>{input('zip', { autoComplete: 'postal-code' })}</Field>
              <Field id="country" label="Country" errors={errors}>{input('country', { autoComplete: 'country-name' })}</Field>
            </div>
          </fieldset>
          <fieldset>
            <legend>Card</legend>
            <Field id="cardNumber" label="Card number" errors={errors}>{input('cardNumber', { inputMode: 'numeric', autoComplete: 'cc-number' })}</Field>
            <div className="row">
              <Field id="expiry" label="Expiry (MM/YY)" errors={errors}>{input('expiry', { autoComplete: 'cc-exp', placeholder: 'MM/YY' })}</Field>
              <Field id="cvv" label="CVV" errors={errors}>{input('cvv', { inputMode: 'numeric', autoComplete: 'cc-csc' })}</Field>
            </div>
          </fieldset>
          <fieldset>
            <legend>Delivery</legend>
            <div className="field">
              <label htmlFor="shipping">Shipping</label>
              <select id="shipping" value={shipping} onChange={(e) => setShipping(e.target.value)}>
                <option>Standard</option>
                <option>Express</option>
                <option>Next-Day</option>
              </select>
            </div>
            <div className="field check">
              <input id="gift" type="checkbox" checked={gift} onChange={(e) => setGift(e.target.checked)} />
              <label htmlFor="gift">Gift wrapping</label>
            </div>
            <div className="field">
              <label htmlFor="comment">Comment (optional)</label>
              <textarea id="comment" value={comment} onChange={(e) => setComment(e.target.value)} rows={2} maxLength={2000} />
            </div>
          </fieldset>
          <div className={`field check${errors.terms ? ' invalid' : ''}`}>
            <input id="terms" type="checkbox" checked={values.terms} onChange={set('terms')} aria-invalid={errors.terms ? true : undefined} />
            <label htmlFor="terms">I accept the terms and conditions</label>
            {errors.terms && <small id="terms-error" className="field-error" role="alert">{errors.terms}</small>}
          </div>
          {serverError && (
            <p id="server-error" role="alert" className="error">
              {serverError}
            </p>
          )}
          <button type="submit" className="primary" disabled={submitting}>
            {submitting ? 'Placing your order…' : 'Place order'}
          </button>
        </form>
      </div>
    </section>
  );
}
