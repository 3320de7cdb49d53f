/** The test side of the OTLP receiver: see src/dev/bench/otlp-receiver.ts. */
export * from '../../src/dev/bench/otlp-receiver';
