import type { ExecutionsRequest, ExecutionsResponse, ExecutorStatus, OrderExecutorServiceImplementation, StepRequest } from '../gen/causeway/v1/order_executor';
import { inject, injectable } from 'tsyringe';
import { ExecutionLedger } from './execution-ledger';
import { RaftDriver } from './raft-driver';
import { messageFromWire } from './wire';

/** The executor's gRPC face: Raft messages in, status and the replicated ledger out. */
@injectable()
export class OrderExecutorService implements OrderExecutorServiceImplementation {
  constructor(
    @inject(RaftDriver) private readonly raft: RaftDriver,
    @inject(ExecutionLedger) private readonly ledger: ExecutionLedger,
  ) {}

  /** A peer's stream of Raft messages, for as long as it stays connected. */
  async stream(requests: AsyncIterable<StepRequest>) {
    for await (const request of requests) this.step(request);
    return {};
  }

  async step(request: StepRequest) {
    this.raft.receive(request.messages.map(messageFromWire));
    return {};
  }

  async status(): Promise<ExecutorStatus> {
    const s = this.raft.status();
    return {
      id: s.id,
      role: s.role,
      term: s.term,
      leaderId: s.leader ?? '',
      commitIndex: s.commit,
      appliedIndex: s.applied,
      logLength: s.lastIndex,
      lastHeartbeatMs: this.raft.lastHeartbeatMs,
      executedCount: this.ledger.size,
    };
  }

  async executions(request: ExecutionsRequest): Promise<ExecutionsResponse> {
    const executions =
      request.orderIds.length === 0
        ? this.ledger.all()
        : request.orderIds.flatMap((id) => this.ledger.get(id) ?? []);
    return { executions };
  }
}
