import { Status, waitForChannelReady, type Channel } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import type { StepRequest, StepResponse } from '../../gen/causeway/v1/raft';
import { createGrpcClient } from '../grpc';
import { LOGGER, type Logger } from '../logger';
import type { Message, MessageType, NodeId } from '../../raft/types';
import { RAFT_NODE_ID, RAFT_PEER_ADDRESSES, RAFT_SERVICE_DEFINITION } from './tokens';
import { messageToWire } from './wire';

/**
 * What the transport needs of a service's gRPC definition: a `Stream` RPC, a client stream of StepRequests (each
 * service's proto declares its own, on the messages of proto/causeway/v1/raft.proto). The generated definitions of
 * OrderExecutor and BooksDatabase both fit.
 */
export interface RaftServiceDefinition {
  readonly name: string;
  readonly fullName: string;
  readonly methods: {
    readonly stream: {
      readonly name: 'Stream';
      readonly requestType: typeof StepRequest;
      readonly requestStream: true;
      readonly responseType: typeof StepResponse;
      readonly responseStream: false;
      readonly options: object;
    };
  };
}

/** The one call the transport makes on a peer. */
export interface RaftStreamClient {
  stream(requests: AsyncIterable<StepRequest>): Promise<unknown>;
}

/** After a failed stream, wait this long before dialling the peer again (messages meanwhile are dropped). */
const RECONNECT_MS = 50;
/** The channel's own redial back-off stays below an election timeout, so a restarted peer is heard from at once. */
const MAX_REDIAL_MS = 250;
/**
 * A connection that has not come up, or whose requests have gone unanswered, for
 * this long is dead: start over on a fresh one. Heartbeats go out every 40 ms, so
 * this is six unanswered ones.
 */
export const DEAD_PEER_MS = 250;
/** How often each stream's liveness is checked. */
const LIVENESS_CHECK_MS = DEAD_PEER_MS / 5;


/** Messages the peer answers (Append and Snapshot with AppendResponse, votes with vote responses). */
const REQUESTS: ReadonlySet<string> = new Set<MessageType>(['Append', 'Snapshot', 'Vote', 'PreVote']);
/** An answer can only have come from a request that went through: proof that our side of the link works. */
const ANSWERS: ReadonlySet<MessageType> = new Set<MessageType>(['AppendResponse', 'VoteResponse', 'PreVoteResponse']);

/**
 * Where a peer stream gets its connection; a fresh one each time the old one is given up. `ready`, when given,
 * settles once the connection is up (TCP and HTTP/2), and is rejected if it never comes up.
 */
export type Dial = () => { client: RaftStreamClient; channel: Channel; ready?: Promise<void> };

/**
 * One long-lived client stream to one peer. Raft tolerates loss, so while the
 * peer is unreachable messages are dropped rather than queued: the protocol
 * retransmits what matters (heartbeats carry the log position).
 *
 * A network partition drops packets without a reset, so TCP keeps a dead
 * connection (and a connection attempt) retransmitting with a growing back-off
 * (a lost SYN is sent again after 1 s, then 3 s), and after the partition heals
 * nothing flows until the next retry. So the stream gives up a connection, and
 * dials a new one, when
 * - it has not come up within DEAD_PEER_MS of dialling, or
 * - the requests sent on it (Append, Snapshot, Vote, PreVote) have had no answer
 *   for DEAD_PEER_MS.
 * Only answers count, not just any message from the peer: the peer's own
 * requests reach us over its connection, which says nothing of ours (after a
 * heal, the peer's fresh connection works while ours may still be an attempt
 * made during the partition, whose SYN was dropped). What the peer's messages
 * do say is that the network between us works again: an attempt dialled
 * before the peer was heard from again (after a silence of DEAD_PEER_MS) and
 * still not up then is given up at once. Only those: an attempt dialled while
 * the peer is heard from was sent on a working network, and on a busy machine
 * it may take a while to come up (killing it for that would never let one).
 */
export class PeerStream {
  private pending: StepRequest[] = [];
  private wake: (() => void) | undefined;
  private open = false;
  private retryAt = 0;
  private reachable = true;
  private closed = false;
  private connection: { client: RaftStreamClient; channel: Channel };
  /** Bumped with each new connection, so a stale stream's end does not touch its successor. */
  private generation = 0;
  /** Bumped with each dial, so a stale connection's `ready` does not mark its successor up. */
  private dials = 0;
  /** Whether the current connection has come up. */
  private established = false;
  private dialedAt = 0;
  /** When the peer was last heard from, and when it was first heard from after a silence of DEAD_PEER_MS. */
  private lastHeardAt: number | undefined;
  private audibleSince = 0;
  /** When the oldest request not yet answered by the peer was sent (undefined: everything answered). */
  private unansweredSince: number | undefined;
  private connectedAt = 0;
  /** Connections given up as dead, for tests and logs. */
  redials = 0;
  /** Redials since the peer last answered. */
  private silentRedials = 0;

  constructor(
    private readonly peer: NodeId,
    private readonly dial: Dial,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** The stream failed with a transport error (reset, refused): not just slow, gone. Once per loss. */
    private readonly lost: () => void = () => undefined,
  ) {
    this.connection = this.dialNew();
  }

  send(batch: StepRequest): void {
    if (this.closed) return;
    const now = this.now();
    if (batch.messages.some((m) => REQUESTS.has(m.type))) this.unansweredSince ??= now;
    if (!this.open) {
      if (now < this.retryAt) return;
      this.connect();
    }
    this.pending.push(batch);
    this.wake?.();
  }

  /** A message of this type came from the peer: it is up, and if the message is an answer, our connection works. */
  heardFrom(type: MessageType): void {
    if (!this.reachable) {
      this.reachable = true;
      this.logger.info(`peer ${this.peer} reachable again`, { peer: this.peer });
    }
    const now = this.now();
    if (this.lastHeardAt === undefined || now - this.lastHeardAt >= DEAD_PEER_MS) this.audibleSince = now;
    this.lastHeardAt = now;
    if (!this.established && this.open && !this.closed && this.dialedAt < this.audibleSince) {
      this.redial(`heard from the peer again, but our connection, dialled ${now - this.dialedAt} ms ago, is not up`);
      return;
    }
    if (!ANSWERS.has(type)) return;
    if (this.silentRedials > 0) {
      this.logger.debug(`peer ${this.peer} answering again after ${this.silentRedials} redials`, { peer: this.peer, redials: this.silentRedials });
      this.silentRedials = 0;
    }
    this.unansweredSince = undefined;
  }

  /**
   * Called periodically: gives up a connection that has not come up, or whose requests go unanswered, for too long.
   * `stalledMs`: how much later than due this check runs, time this process did not run (a busy machine, a long
   * garbage collection). It is not held against the peer's answers, which may be waiting unread in the socket:
   * giving up a working connection for that drops what is in flight on it. An attempt that is not up is still
   * given up on time: after a heal, that delay is the rejoin's, and a new attempt costs only a round trip.
   */
  checkLiveness(stalledMs = 0): void {
    if (stalledMs > 0) {
      if (this.unansweredSince !== undefined) this.unansweredSince += stalledMs;
      this.connectedAt += stalledMs;
    }
    const now = this.now();
    if (this.closed) return;
    if (!this.established && this.open && now - this.dialedAt >= DEAD_PEER_MS) {
      this.redial(`connection not up ${now - this.dialedAt} ms after dialling`);
      return;
    }
    if (this.unansweredSince === undefined) return;
    if (now - this.unansweredSince < DEAD_PEER_MS || now - this.connectedAt < DEAD_PEER_MS) return;
    this.redial(`nothing answered for ${now - this.unansweredSince} ms`);
  }

  close(): void {
    this.closed = true;
    this.stopStream();
    this.connection.channel.close();
  }

  private redial(why: string): void {
    this.redials++;
    this.silentRedials++;
    this.logger.debug(`peer ${this.peer}: ${why}, redialling`, { peer: this.peer });
    // Counted again from the next request: a peer we stop talking to is not redialled forever.
    this.unansweredSince = undefined;
    this.stopStream();
    this.connection.channel.close();
    this.connection = this.dialNew();
    this.retryAt = 0;
  }

  private dialNew(): { client: RaftStreamClient; channel: Channel } {
    const dial = ++this.dials;
    const connection = this.dial();
    this.dialedAt = this.now();
    this.established = connection.ready === undefined;
    connection.ready?.then(
      () => {
        if (dial === this.dials) this.established = true;
      },
      () => undefined, // never came up: checkLiveness redials it
    );
    return connection;
  }

  private connect(): void {
    this.open = true;
    this.connectedAt = this.now();
    const generation = ++this.generation;
    this.connection.client.stream(this.outgoing(generation)).then(
      () => this.disconnected(generation, undefined),
      (err: Error) => this.disconnected(generation, err),
    );
  }

  private async *outgoing(generation: number): AsyncGenerator<StepRequest> {
    while (this.open && generation === this.generation) {
      const batch = this.pending.shift();
      if (batch) {
        yield batch;
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private stopStream(): void {
    this.open = false;
    this.pending = [];
    this.generation++;
    this.wake?.();
  }

  private disconnected(generation: number, err: Error | undefined): void {
    if (generation !== this.generation) return;
    this.stopStream();
    this.retryAt = this.now() + RECONNECT_MS;
    if (err && this.reachable && !this.closed) {
      this.reachable = false;
      this.logger.warn(`peer ${this.peer} unreachable: ${err.message}`, { peer: this.peer });
      if ((err as { code?: unknown }).code === Status.UNAVAILABLE) this.lost();
    }
  }
}

/**
 * Sends Raft messages to peers over gRPC: one client stream per peer, one
 * stream message per Ready. Cheaper by far than a unary call per batch, and
 * in order.
 */
@injectable()
export class RaftTransport {
  private readonly streams = new Map<NodeId, PeerStream>();
  private readonly liveness: NodeJS.Timeout;
  private lostListener: ((peer: NodeId) => void) | undefined;

  constructor(
    @inject(RAFT_PEER_ADDRESSES) peers: Readonly<Record<NodeId, string>>,
    @inject(RAFT_NODE_ID) self: NodeId,
    @inject(RAFT_SERVICE_DEFINITION) definition: RaftServiceDefinition,
    @inject(LOGGER) logger: Logger,
  ) {
    for (const [id, address] of Object.entries(peers)) {
      if (id === self) continue;
      // No deadline (the stream lives as long as the peer) and no per-message traces.
      // A channel of its own each time (not grpc-js's shared subchannel, which would still be retrying the old
      // connection attempt), so a redial really opens a new connection.
      const dial = () => {
        const { client, channel } = createGrpcClient(definition, address, {
          deadlineMs: 0,
          traced: false,
          maxReconnectBackoffMs: MAX_REDIAL_MS,
          privateConnection: true,
        });
        // Also starts connecting. Given up (and the channel with it) long before this deadline if it does not come up.
        const ready = waitForChannelReady(channel, new Date(Date.now() + 10 * DEAD_PEER_MS));
        return { client, channel, ready };
      };
      this.streams.set(id, new PeerStream(id, dial, logger, Date.now, () => this.lostListener?.(id)));
    }
    let lastCheck = performance.now();
    this.liveness = setInterval(() => {
      const now = performance.now();
      const stalledMs = Math.max(0, Math.round(now - lastCheck - 2 * LIVENESS_CHECK_MS));
      lastCheck = now;
      for (const stream of this.streams.values()) stream.checkLiveness(stalledMs);
    }, LIVENESS_CHECK_MS);
    this.liveness.unref();
  }

  send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to) ?? [];
      list.push(m);
      byPeer.set(m.to, list);
    }
    for (const [peer, batch] of byPeer) this.streams.get(peer)?.send({ messages: batch.map(messageToWire) });
  }

  /**
   * Calls `listener` when a peer's connection fails with UNAVAILABLE (reset or refused: its process is gone), once
   * per loss; the driver lets the core campaign at once if that peer led (RaftNode.leaderUnreachable).
   */
  onPeerLost(listener: (peer: NodeId) => void): void {
    this.lostListener = listener;
  }

  /** A message of this type arrived from this peer. */
  heardFrom(peer: NodeId, type: MessageType): void {
    this.streams.get(peer)?.heardFrom(type);
  }

  /** Connections given up as dead since start, per peer. */
  redials(): Record<NodeId, number> {
    return Object.fromEntries([...this.streams].map(([id, s]) => [id, s.redials]));
  }

  close(): void {
    clearInterval(this.liveness);
    for (const stream of this.streams.values()) stream.close();
  }
}
