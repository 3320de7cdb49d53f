/** The test side of the harness: see src/launcher/harness.ts. */
export * from '../../src/launcher/harness';
