/**
 * Stored data that cannot be trusted, found on open. It is never repaired
 * silently: the process refuses to start and the message says which file, where,
 * and what the operator can do (`recovery`, worded by the owner of the data).
 */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
    readonly recovery: string,
  ) {
    super(`${file}: ${reason} at byte ${offset}; refusing to start. ${recovery}`);
    this.name = 'CorruptFileError';
  }
}
