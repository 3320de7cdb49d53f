/** The test side of the harness: see src/dev/harness/system.ts. */
export * from '../../src/dev/harness/system';
