import type { ExecutionsRequest, ExecutionsResponse, ExecutorStatus, OrderExecutorServiceImplementation } from '../gen/causeway/v1/order_executor';
import type { StepRequest } from '../gen/causeway/v1/raft';
import { ServerError, Status } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { ExecutionLedger } from './execution-ledger';
import { RaftDriver } from '../platform/raft-host/driver';
import { stepPeerStream, raftStatusFields } from '../platform/raft-host/host';
import type { Membership } from '../platform/raft-host/wire';

/** Injection token: this executor's id and its peers', for validating incoming Raft messages. */
export const MEMBERSHIP = Symbol('Membership');

/** The executor's gRPC face: Raft messages in, status and the replicated ledger out. */
@injectable()
export class OrderExecutorService implements OrderExecutorServiceImplementation {
  constructor(
    @inject(RaftDriver) private readonly raft: RaftDriver,
    @inject(ExecutionLedger) private readonly ledger: ExecutionLedger,
    @inject(MEMBERSHIP) private readonly members: Membership,
  ) {}

  // Issue 14's cooperative termination: not built yet; callers get UNIMPLEMENTED, not a wrong answer.
  async getDecision(): Promise<never> {
    throw new ServerError(Status.UNIMPLEMENTED, 'two-phase commit is not built yet (issue 14)');
  }

  /** A peer's stream of Raft messages (see stepPeerStream). */
  stream(requests: AsyncIterable<StepRequest>) {
    return stepPeerStream(this.raft, this.members, requests);
  }

  async status(): Promise<ExecutorStatus> {
    return {
      ...raftStatusFields(this.raft),
      executedCount: this.ledger.executedTotal,
    };
  }

  async executions(request: ExecutionsRequest): Promise<ExecutionsResponse> {
    const executions =
      request.orderIds.length === 0
        ? this.ledger.all()
        : request.orderIds.flatMap((id) => this.ledger.get(id) ?? []);
    return {
      executions: executions.map(({ failure, ...e }) => ({ ...e, failureCode: failure?.code ?? '', failureMessage: failure?.message ?? '' })),
    };
  }
}
