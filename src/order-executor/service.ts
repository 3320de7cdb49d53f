import type {
  ExecutionsRequest,
  ExecutionsResponse,
  ExecutorStatus,
  GetDecisionRequest,
  GetDecisionResponse,
  OrderExecutorServiceImplementation,
} from '../gen/causeway/v1/order_executor';
import { trace } from '@opentelemetry/api';
import type { StepRequest } from '../gen/causeway/v1/raft';
import { ServerError, Status } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import { ExecutionLedger } from './execution-ledger';
import { RaftDriver } from '../platform/raft-host/driver';
import { stepPeerStream, raftStatusFields } from '../platform/raft-host/host';
import type { Membership } from '../platform/raft-host/wire';
import type { DecisionReply } from './two-phase/driver';
import { PARTICIPANTS } from './two-phase/types';

/** Injection token: this executor's id and its peers', for validating incoming Raft messages. */
export const MEMBERSHIP = Symbol('Membership');
/** Injection token of what answers GetDecision: the two-phase-commit coordinator (undefined: 2PC is off). */
export const DECISION_SOURCE = Symbol('DecisionSource');

export interface DecisionSource {
  getDecision(txId: string, participant: string): Promise<DecisionReply>;
  /** Transactions this node coordinates and has not finished (0 unless it leads). */
  inFlightCount(): number;
}

const definedOnly = <T>(values: Record<string, T | undefined>): Record<string, T> =>
  Object.fromEntries(Object.entries(values).filter((kv): kv is [string, T] => kv[1] !== undefined));

/** The executor's gRPC face: Raft messages in, status and the replicated ledger out. */
@injectable()
export class OrderExecutorService implements OrderExecutorServiceImplementation {
  constructor(
    @inject(RaftDriver) private readonly raft: RaftDriver,
    @inject(ExecutionLedger) private readonly ledger: ExecutionLedger,
    @inject(MEMBERSHIP) private readonly members: Membership,
    @inject(DECISION_SOURCE) private readonly decisions?: DecisionSource,
  ) {}

  /**
   * Cooperative termination (issue 14): a participant holding a prepared transaction asks for its decision. The
   * leader answers (presuming abort for a transaction nobody drives, logged first); a follower points at it.
   */
  async getDecision(request: GetDecisionRequest): Promise<GetDecisionResponse> {
    if (request.txId.trim() === '') throw new ServerError(Status.INVALID_ARGUMENT, 'tx_id is required (the order id)');
    if (request.participant !== '' && !(PARTICIPANTS as readonly string[]).includes(request.participant)) {
      throw new ServerError(Status.INVALID_ARGUMENT, `participant must be one of ${PARTICIPANTS.join(', ')} (or empty), got ${JSON.stringify(request.participant)}`);
    }
    if (!this.decisions) {
      throw new ServerError(Status.UNIMPLEMENTED, 'two-phase commit is off on this executor (CAUSEWAY_COMMIT_PROTOCOL=decrement)');
    }
    const span = trace.getActiveSpan();
    span?.setAttributes({ 'order.id': request.txId, 'commit.participant': request.participant });
    const reply = await this.decisions.getDecision(request.txId, request.participant);
    if ('notLeader' in reply) throw new ServerError(Status.FAILED_PRECONDITION, `NOT_LEADER leader=${reply.notLeader ?? ''}`);
    span?.setAttributes({ 'commit.decision': reply.decision, ...(reply.reason ? { 'commit.reason': reply.reason } : {}) });
    return reply;
  }

  /** A peer's stream of Raft messages (see stepPeerStream). */
  stream(requests: AsyncIterable<StepRequest>) {
    return stepPeerStream(this.raft, this.members, requests);
  }

  async status(): Promise<ExecutorStatus> {
    return {
      ...raftStatusFields(this.raft),
      executedCount: this.ledger.executedTotal,
      transactionsInFlight: this.decisions?.inFlightCount() ?? 0,
    };
  }

  async executions(request: ExecutionsRequest): Promise<ExecutionsResponse> {
    const executions =
      request.orderIds.length === 0
        ? this.ledger.all()
        : request.orderIds.flatMap((id) => this.ledger.get(id) ?? []);
    return {
      executions: executions.map(({ failure, commit, ...e }) => ({
        ...e,
        failureCode: failure?.code ?? '',
        failureMessage: failure?.message ?? '',
        commit: commit && {
          decision: commit.decision,
          reason: commit.reason ?? '',
          participants: definedOnly(commit.participants),
          coordinator: commit.coordinator,
          term: commit.term,
          finished: commit.finished,
          prepareStartedMs: commit.times?.prepareStartedAt ?? 0,
          votedMs: definedOnly(commit.times?.votedAt ?? {}),
          decidedMs: commit.times?.decidedAt ?? 0,
          finishedMs: definedOnly(commit.times?.finishedAt ?? {}),
          amountCents: commit.amountCents ?? 0,
          votes: definedOnly(commit.votes ?? {}),
        },
      })),
    };
  }
}
