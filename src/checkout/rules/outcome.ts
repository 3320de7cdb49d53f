/**
 * What an event's rule decides. Pure, with no imports, so the web app can run
 * the same rules in the browser.
 */

/** A failed rule: a stable machine code and a human message. */
export interface Rejected {
  ok: false;
  code: string;
  message: string;
}

/**
 * Passed, with what the event produced (event F: the suggested books), or
 * rejected. The chain hands the value of its last event on to whoever continues it.
 */
export type EventOutcome<Value> = { ok: true; value: Value } | Rejected;

/** A check that produces nothing but its verdict. */
export type RuleOutcome = EventOutcome<void>;

export const pass: RuleOutcome = { ok: true, value: undefined };

export function passWith<Value>(value: Value): EventOutcome<Value> {
  return { ok: true, value };
}

export function fail(code: string, message: string): Rejected {
  return { ok: false, code, message };
}
