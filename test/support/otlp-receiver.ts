/** The test side of the OTLP receiver: see src/bench/otlp-receiver.ts. */
export * from '../../src/bench/otlp-receiver';
