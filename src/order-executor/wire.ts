import { ServerError, Status } from 'nice-grpc';
import type { RaftEntry, RaftMessage } from '../gen/causeway/v1/order_executor';
import type { Entry, Message, MessageType } from '../raft/types';

/** Raft messages to and from their protobuf form. */

const TYPES: readonly MessageType[] = ['PreVote', 'PreVoteResponse', 'Vote', 'VoteResponse', 'Append', 'AppendResponse'];

const entryToWire = (e: Entry): RaftEntry => ({ term: e.term, index: e.index, type: e.type, data: e.data ?? '' });

const entryFromWire = (e: RaftEntry): Entry =>
  e.type === 'command' ? { term: e.term, index: e.index, type: 'command', data: e.data } : { term: e.term, index: e.index, type: 'noop' };

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
  };
}

export function messageFromWire(m: RaftMessage): Message {
  if (!TYPES.includes(m.type as MessageType)) {
    throw new ServerError(Status.INVALID_ARGUMENT, `unknown raft message type ${JSON.stringify(m.type.slice(0, 40))}`);
  }
  return {
    type: m.type as MessageType,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(entryFromWire),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
  };
}
