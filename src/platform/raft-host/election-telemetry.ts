import { trace, type Span } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import { LOGGER, type Logger } from '../logger';
import type { RaftEvent } from '../../raft/node';
import { RAFT_ELECTION_METRICS, RAFT_NODE_ID } from './tokens';

const tracer = trace.getTracer('causeway.raft');

/** The counters a service keeps of its elections (the executor's and the books database's metrics both do). */
export interface ElectionMetrics {
  electionStarted(): void;
  leaderChanged(): void;
}

/**
 * Turns the Raft core's decisions into telemetry: each election is a span
 * (candidate, term, votes granted and denied, outcome); becoming leader and
 * stepping down are span events and log lines with the term.
 */
@injectable()
export class ElectionTelemetry {
  private election: Span | undefined;
  private lastLeader: string | null = null;

  constructor(
    @inject(RAFT_NODE_ID) private readonly self: string,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(RAFT_ELECTION_METRICS) private readonly metrics: ElectionMetrics,
  ) {}

  observe(events: readonly RaftEvent[]): void {
    for (const event of events) this.handle(event);
  }

  private handle(event: RaftEvent): void {
    switch (event.type) {
      case 'election-started': {
        this.endElection('superseded');
        this.metrics.electionStarted();
        const kind = event.preVote ? 'pre-vote' : 'election';
        this.election = tracer.startSpan(`raft ${kind}`, {
          root: true,
          attributes: { 'raft.candidate': this.self, 'raft.term': event.term, 'raft.pre_vote': event.preVote },
        });
        this.logger.info(`starting ${kind} for term ${event.term}`, { term: event.term });
        return;
      }
      case 'vote-cast':
        this.logger.info(
          `${event.granted ? 'granted' : 'denied'} ${event.preVote ? 'pre-vote' : 'vote'} to ${event.candidate} for term ${event.term}`,
          { term: event.term, candidate: event.candidate },
        );
        return;
      case 'became-leader':
        this.election?.setAttributes({
          'raft.votes.granted': event.votes.granted,
          'raft.votes.denied': event.votes.denied,
        });
        this.election?.addEvent('became leader', { 'raft.term': event.term });
        this.endElection('won');
        this.logger.info(`became leader for term ${event.term} (votes from ${event.votes.granted.join(', ')})`, { term: event.term });
        return;
      case 'election-lost':
        this.election?.setAttributes({ 'raft.votes.granted': event.votes.granted, 'raft.votes.denied': event.votes.denied });
        this.endElection('lost');
        this.logger.info(`lost the ${event.preVote ? 'pre-vote' : 'election'} for term ${event.term}`, { term: event.term });
        return;
      case 'stepped-down': {
        const span = tracer.startSpan('raft step down', { root: true, attributes: { 'raft.term': event.term, 'raft.reason': event.reason } });
        span.addEvent('stepped down', { 'raft.term': event.term });
        span.end();
        this.logger.warn(`stepped down as leader in term ${event.term}: ${event.reason}`, { term: event.term });
        return;
      }
      case 'leader-unreachable': {
        const message = `lost the connection to leader ${event.leader} (term ${event.term}): campaigning in turn with the other survivors, not after the election timeout`;
        this.logger.info(message, { term: event.term, leader: event.leader });
        return;
      }
      case 'leader-changed':
        if (event.leader !== null && event.leader !== this.lastLeader) {
          this.lastLeader = event.leader;
          this.metrics.leaderChanged();
          this.logger.info(`leader is ${event.leader === this.self ? 'me' : event.leader} (term ${event.term})`, {
            term: event.term,
            leader: event.leader,
          });
        }
        if (event.leader !== null) this.endElection(event.leader === this.self ? 'won' : 'another leader won');
        return;
    }
  }

  private endElection(outcome: string): void {
    if (!this.election) return;
    this.election.setAttribute('raft.outcome', outcome);
    this.election.end();
    this.election = undefined;
  }
}
