import { createHash } from 'node:crypto';
import { fail, pass, type RuleOutcome } from '../checkout/rules/outcome';
import type { Order } from '../gen/causeway/v1/checkout';
import type { FraudRulesConfig } from './config';
import { VelocityWindow } from './velocity';

/**
 * The rules of events D (user fraud) and E (card fraud). Pure apart from the
 * velocity windows they own; time comes in as an argument.
 */
export class FraudRules {
  private readonly contactVelocity: VelocityWindow;
  private readonly cardVelocity: VelocityWindow;

  constructor(private readonly config: FraudRulesConfig) {
    this.contactVelocity = new VelocityWindow(config.contactVelocity.windowMs);
    this.cardVelocity = new VelocityWindow(config.cardVelocity.windowMs);
  }

  /** D: blocklisted users, disposable e-mail domains, too many orders from one contact. */
  checkUser(order: Order, now: number): RuleOutcome {
    const name = order.user?.name.trim().toLowerCase() ?? '';
    const contact = order.user?.contact.trim().toLowerCase() ?? '';
    if (this.config.blockedUsers.includes(contact) || this.config.blockedUsers.includes(name)) {
      return fail('USER_BLOCKLISTED', 'this customer may not place orders');
    }
    const domain = contact.includes('@') ? contact.slice(contact.lastIndexOf('@') + 1) : '';
    if (domain && this.config.disposableDomains.some((d) => domain === d || domain.endsWith(`.${d}`))) {
      return fail('USER_DISPOSABLE_EMAIL', `orders from disposable e-mail domains (${domain}) are not accepted`);
    }
    const { limit, windowMs } = this.config.contactVelocity;
    if (this.contactVelocity.record(contact, now) > limit) {
      return fail('USER_VELOCITY_EXCEEDED', `more than ${limit} orders from this contact within ${windowMs / 1000} s`);
    }
    return pass;
  }

  /** E: numbers made of one repeated digit, absurd quantities, too many orders on one card. */
  checkCard(order: Order, now: number): RuleOutcome {
    const digits = (order.creditCard?.number ?? '').replace(/\D/g, '');
    if (digits.length > 0 && /^(\d)\1*$/.test(digits)) {
      return fail('CARD_REPEATED_DIGITS', 'the card number is a single repeated digit');
    }
    const max = this.config.maxItemQuantity;
    const absurd = order.items.find((item) => item.quantity > max);
    if (absurd) return fail('QUANTITY_ABSURD', `${absurd.quantity} copies of one book is more than the ${max} we sell at once`);
    const { limit, windowMs } = this.config.cardVelocity;
    // Keyed by a hash: the raw number never sits in memory longer than the order.
    const cardKey = createHash('sha256').update(digits).digest('hex');
    if (this.cardVelocity.record(cardKey, now) > limit) {
      return fail('CARD_VELOCITY_EXCEEDED', `more than ${limit} orders on this card within ${windowMs / 1000} s`);
    }
    return pass;
  }
}
