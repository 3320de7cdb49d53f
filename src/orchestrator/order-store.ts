/** Remembers the latest checkout results for GET /orders/:id, oldest forgotten first. */
export class OrderStore<Result> {
  private readonly results = new Map<string, Result>();

  constructor(private readonly capacity: number) {}

  put(orderId: string, result: Result): void {
    this.results.delete(orderId);
    this.results.set(orderId, result);
    if (this.results.size > this.capacity) this.results.delete(this.results.keys().next().value as string);
  }

  get(orderId: string): Result | undefined {
    return this.results.get(orderId);
  }

  get size(): number {
    return this.results.size;
  }
}
