import { standingAlone, withoutRandomIds } from './support/card-search';

describe('looking for a leaked CVV', () => {
  const cvv = standingAlone('9071');

  it('finds the CVV as a value, in an attribute or in a sentence', () => {
    expect(withoutRandomIds('{"cvv":"9071"}')).toMatch(cvv);
    expect(withoutRandomIds('card checked with 9071 at 12:00')).toMatch(cvv);
    expect(withoutRandomIds('{"traceId":"3d2ebcaaea90718f7f2b115168ada3fa","cvv":"9071"}')).toMatch(cvv);
  });

  it('does not take the digits inside a trace id, a span id or an order id for it', () => {
    expect('{"traceId":"3d2ebcaaea9071ff7f2b115168ada3fa"}').toMatch(cvv);
    expect(withoutRandomIds('{"traceId":"3d2ebcaaea9071ff7f2b115168ada3fa"}')).not.toMatch(cvv);
    expect(withoutRandomIds('{"spanId":"78489a9071c0e2ab"}')).not.toMatch(cvv);
    expect(withoutRandomIds('order ord_8905bb19-9071-41f0-a14f-cfe5d7be72b2 approved')).not.toMatch(cvv);
  });
});
