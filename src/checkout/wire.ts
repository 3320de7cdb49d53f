import { ServerError, Status } from 'nice-grpc';
import type { VectorClock as VectorClockMessage } from '../gen/causeway/v1/checkout';
import { InvalidClockError, VectorClock } from '../vector-clock/vector-clock';
import { CLOCK_PROCESSES } from './events';

/** Converts between the VectorClock domain type and its protobuf message. */

export function clockFromWire(message: VectorClockMessage | undefined): VectorClock {
  try {
    return VectorClock.from(message?.entries ?? {});
  } catch (err) {
    if (err instanceof InvalidClockError) throw new ServerError(Status.INVALID_ARGUMENT, err.message);
    throw err;
  }
}

export function clockToWire(clock: VectorClock): VectorClockMessage {
  return { entries: clock.toRecord(CLOCK_PROCESSES) };
}

/** `{transaction-verification: n, fraud-detection: n, suggestions: n}` in the seed's order. */
export function clockRecord(clock: VectorClock): Record<string, number> {
  return clock.toRecord(CLOCK_PROCESSES);
}
