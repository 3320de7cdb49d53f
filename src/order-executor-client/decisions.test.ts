import { createServer, ServerError, Status, type Server } from 'nice-grpc';
import { OrderExecutorDefinition, type GetDecisionRequest } from '../gen/causeway/v1/order_executor';
import { ExecutorDecisions } from './decisions';

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await s.shutdown();
});

/** An in-process stand-in executor: GetDecision answered by `answer`, the rest UNIMPLEMENTED. */
async function executor(answer: (r: GetDecisionRequest) => string | ServerError): Promise<string> {
  const server = createServer();
  const unimplemented = async () => {
    throw new ServerError(Status.UNIMPLEMENTED, 'stand-in');
  };
  server.add(OrderExecutorDefinition, {
    stream: unimplemented,
    status: unimplemented,
    executions: unimplemented,
    async getDecision(r) {
      const a = answer(r);
      if (a instanceof ServerError) throw a;
      return { decision: a, reason: '', term: 1 };
    },
  });
  servers.push(server);
  return `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
}

function logger() {
  const warnings: string[] = [];
  return { warnings, info() {}, warn: (m: string) => void warnings.push(m) };
}

describe('ExecutorDecisions', () => {
  it("follows a follower's NOT_LEADER hint to the leader, and asks the leader first afterwards", async () => {
    const calls: string[] = [];
    const follower = await executor(() => (calls.push('follower'), new ServerError(Status.FAILED_PRECONDITION, 'NOT_LEADER leader=e2')));
    const leader = await executor((r) => (calls.push('leader'), r.txId === 'ord_1' ? 'commit' : 'abort'));
    const log = logger();
    const decisions = new ExecutorDecisions({ e1: follower, e2: leader }, { callDeadlineMs: 1000, participant: 'payment', logger: log });
    expect(await decisions.decision('ord_1')).toBe('commit');
    expect(await decisions.decision('ord_2')).toBe('abort');
    expect(calls).toEqual(['follower', 'leader', 'leader']);
    decisions.close();
  });

  it('takes UNIMPLEMENTED (executors without GetDecision yet) as pending, and says so once', async () => {
    const old = await executor(() => new ServerError(Status.UNIMPLEMENTED, 'not built yet'));
    const log = logger();
    const decisions = new ExecutorDecisions({ e1: old }, { callDeadlineMs: 1000, participant: 'payment', logger: log });
    expect(await decisions.decision('ord_1')).toBe('pending');
    expect(await decisions.decision('ord_2')).toBe('pending');
    expect(log.warnings.filter((w) => w.includes('UNIMPLEMENTED'))).toHaveLength(1);
    decisions.close();
  });

  it('takes an answer it does not know as pending, with a warning', async () => {
    const odd = await executor(() => 'maybe');
    const log = logger();
    const decisions = new ExecutorDecisions({ e1: odd }, { callDeadlineMs: 1000, participant: 'payment', logger: log });
    expect(await decisions.decision('ord_1')).toBe('pending');
    expect(log.warnings).toEqual([expect.stringContaining('unknown decision "maybe"')]);
    decisions.close();
  });

  it('throws when no executor answers (the caller asks again later)', async () => {
    const down = await executor(() => new ServerError(Status.UNAVAILABLE, 'down'));
    const decisions = new ExecutorDecisions({ e1: down, e2: down }, { callDeadlineMs: 1000, participant: 'payment', logger: logger() });
    await expect(decisions.decision('ord_1')).rejects.toThrow(/UNAVAILABLE|down/);
    decisions.close();
  });
});
