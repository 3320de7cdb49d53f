import net from 'node:net';
import { createServer, ServerError, Status, type Server } from 'nice-grpc';
import { OrderExecutorDefinition, type GetDecisionRequest, type GetDecisionResponse } from '../gen/causeway/v1/order_executor';
import type { Logger } from '../platform/logger';
import { ExecutorDecisionClient } from './decision-client';

/** The executors' GetDecision, answered in this process by `answer` (per executor id). */
async function executors(answer: Record<string, (request: GetDecisionRequest) => GetDecisionResponse>) {
  const servers: Server[] = [];
  const peers: Record<string, string> = {};
  for (const id of Object.keys(answer)) {
    const server = createServer();
    const unimplemented = async (): Promise<never> => {
      throw new ServerError(Status.UNIMPLEMENTED, 'not here');
    };
    server.add(OrderExecutorDefinition, { stream: unimplemented, status: unimplemented, executions: unimplemented, getDecision: async (r: GetDecisionRequest) => answer[id](r) });
    const port = await server.listen('127.0.0.1:0');
    servers.push(server);
    peers[id] = `127.0.0.1:${port}`;
  }
  return { peers, stop: () => Promise.all(servers.map((s) => s.shutdown())) };
}

function logger() {
  const lines: string[] = [];
  const log = { warn: (m: string) => lines.push(m), info: () => {}, error: () => {}, debug: () => {} } as unknown as Logger;
  return { log, lines };
}

const notLeader = (leader: string) => () => {
  throw new ServerError(Status.FAILED_PRECONDITION, `NOT_LEADER leader=${leader}`);
};

describe('ExecutorDecisionClient', () => {
  it('follows a follower to the leader named in NOT_LEADER, and returns its decision', async () => {
    const asked: GetDecisionRequest[] = [];
    const cluster = await executors({
      'executor-1': notLeader('executor-3'),
      'executor-2': notLeader(''),
      'executor-3': (r) => (asked.push(r), { decision: r.txId === 'ord-1' ? 'commit' : 'abort', reason: r.txId === 'ord-1' ? '' : 'PAYMENT_DECLINED', term: 4 }),
    });
    const { log } = logger();
    const client = new ExecutorDecisionClient(cluster.peers, { callDeadlineMs: 1000, totalMs: 5000, traced: false }, log);
    try {
      expect(await client.decision('ord-1', 'books-database')).toEqual({ decision: 'commit' });
      expect(await client.decision('ord-2', 'books-database')).toEqual({ decision: 'abort', reason: 'PAYMENT_DECLINED' });
      expect(asked).toEqual([
        { txId: 'ord-1', participant: 'books-database' },
        { txId: 'ord-2', participant: 'books-database' },
      ]);
    } finally {
      client.close();
      await cluster.stop();
    }
  });

  it('treats an executor without GetDecision (UNIMPLEMENTED) as "pending", and says so once', async () => {
    const cluster = await executors({ 'executor-1': () => Promise.reject(new ServerError(Status.UNIMPLEMENTED, 'not built')) as never });
    const { log, lines } = logger();
    const client = new ExecutorDecisionClient(cluster.peers, { callDeadlineMs: 1000, totalMs: 5000, traced: false }, log);
    try {
      expect(await client.decision('ord-1', 'books-database')).toEqual({ decision: 'pending' });
      expect(await client.decision('ord-2', 'books-database')).toEqual({ decision: 'pending' });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/UNIMPLEMENTED/);
    } finally {
      client.close();
      await cluster.stop();
    }
  });

  it('refuses an answer outside commit, abort and pending, and gives up after its total time when no executor answers', async () => {
    const cluster = await executors({ 'executor-1': () => ({ decision: 'maybe', reason: '', term: 1 }) });
    const { log } = logger();
    const client = new ExecutorDecisionClient(cluster.peers, { callDeadlineMs: 1000, totalMs: 2000, traced: false }, log);
    // A port nobody listens on.
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const nobody = new ExecutorDecisionClient({ 'executor-1': `127.0.0.1:${closed}` }, { callDeadlineMs: 200, totalMs: 600, traced: false }, log);
    try {
      await expect(client.decision('ord-1', 'payment')).rejects.toThrow('answered the decision "maybe"');
      await expect(nobody.decision('ord-1', 'payment')).rejects.toThrow();
    } finally {
      client.close();
      nobody.close();
      await cluster.stop();
    }
  });
});
