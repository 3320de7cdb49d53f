import { ServerError, Status } from 'nice-grpc';
import type { RaftEntry, RaftMessage } from '../../gen/causeway/v1/raft';
import type { Entry, Message, MessageType, NodeId } from '../../raft/types';

/**
 * Raft messages to and from their protobuf form. Decoding checks everything the
 * core takes on trust (who sent it, to whom, that entries are a contiguous run
 * no newer than the message), so a malformed message is refused here with
 * INVALID_ARGUMENT, and a throw from inside the core can only mean a broken
 * invariant (which stops the process).
 */

const TYPES: readonly MessageType[] = ['PreVote', 'PreVoteResponse', 'Vote', 'VoteResponse', 'Append', 'AppendResponse', 'Snapshot'];

const entryToWire = (e: Entry): RaftEntry => ({ term: e.term, index: e.index, type: e.type, data: e.data ?? '' });

export function messageToWire(m: Message): RaftMessage {
  return {
    type: m.type,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm ?? 0,
    index: m.index ?? 0,
    entries: (m.entries ?? []).map(entryToWire),
    commit: m.commit ?? 0,
    reject: m.reject ?? false,
    rejectHint: m.rejectHint ?? 0,
    snapshot: m.snapshot,
    context: m.context ?? 0,
  };
}

/** Who may talk to this node: itself and the cluster's other members. */
export interface Membership {
  self: NodeId;
  peers: readonly NodeId[];
}

export function messageFromWire(m: RaftMessage, members: Membership): Message {
  if (!TYPES.includes(m.type as MessageType)) invalid(`unknown raft message type ${quote(m.type)}`);
  if (m.to !== members.self) invalid(`message for ${quote(m.to)} reached ${members.self}`);
  if (m.from === members.self || !members.peers.includes(m.from)) invalid(`message from ${quote(m.from)}, not a peer of ${members.self}`);
  for (const [field, value] of [['term', m.term], ['logTerm', m.logTerm], ['index', m.index], ['commit', m.commit], ['rejectHint', m.rejectHint], ['context', m.context]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) invalid(`${field} ${value} is not a log position`);
  }
  const type = m.type as MessageType;
  const entries = m.entries.map((e, i) => entryFromWire(e, m.index + 1 + i, m.term));
  if (entries.length > 0 && type !== 'Append') invalid(`a ${type} message carries no entries`);
  const message: Message = {
    type,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries,
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
  };
  if (m.context > 0) message.context = m.context;
  if (type === 'Snapshot') {
    const s = m.snapshot;
    if (!s || !Number.isSafeInteger(s.index) || s.index < 1 || !Number.isSafeInteger(s.term) || s.term < 1 || s.term > m.term || s.data === '') {
      invalid('a Snapshot message needs a snapshot with index ≥ 1, a term no newer than the message, and data');
    }
    message.snapshot = { index: s.index, term: s.term, data: s.data };
  }
  return message;
}

function entryFromWire(e: RaftEntry, expectedIndex: number, messageTerm: number): Entry {
  if (e.index !== expectedIndex) invalid(`entry ${e.index} where ${expectedIndex} belongs: entries must follow the previous index without gaps`);
  if (!Number.isSafeInteger(e.term) || e.term < 1 || e.term > messageTerm) invalid(`entry ${e.index} has term ${e.term}, outside 1..${messageTerm}`);
  if (e.type === 'command') {
    if (e.data === '') invalid(`command entry ${e.index} has no data`);
    return { term: e.term, index: e.index, type: 'command', data: e.data };
  }
  if (e.type !== 'noop') invalid(`entry ${e.index} has unknown type ${quote(e.type)}`);
  return { term: e.term, index: e.index, type: 'noop' };
}

function invalid(message: string): never {
  throw new ServerError(Status.INVALID_ARGUMENT, message);
}

const quote = (s: string) => JSON.stringify(s.slice(0, 40));
