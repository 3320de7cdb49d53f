/**
 * `npm run chaos -- kill-leader [--target executors|books] [--times N] [--pause MS]`: SIGKILLs the current leader
 * of a running `npm start`'s executor cluster (the default) or books database (the launcher restarts it), then
 * reports how long the cluster took to elect a new leader.
 */
import fs from 'node:fs';
import { createChannel, createClient, type Client } from 'nice-grpc';
import { BooksDatabaseDefinition } from '../../gen/causeway/v1/books_database';
import { OrderExecutorDefinition } from '../../gen/causeway/v1/order_executor';
import { readBooksDatabasePeers, readExecutorPeers } from '../../platform/config';
import { readProcessTable } from '../../platform/process-table';
import { pidFilePath } from './processes';

/** What is asked of each replica: its role and term (both clusters' Status answers carry them). */
type ExecutorClient = Pick<Client<typeof OrderExecutorDefinition>, 'status'> | Pick<Client<typeof BooksDatabaseDefinition>, 'status'>;

async function leaderOf(clients: Record<string, ExecutorClient>): Promise<{ id: string; term: number } | undefined> {
  const statuses = await Promise.all(
    Object.entries(clients).map(([id, c]) =>
      c.status({}, { signal: AbortSignal.timeout(300) }).then(
        (s) => ({ id, role: s.role, term: s.term }),
        () => undefined,
      ),
    ),
  );
  const leaders = statuses.filter((s) => s?.role === 'leader').sort((a, b) => b!.term - a!.term);
  return leaders[0] ? { id: leaders[0].id, term: leaders[0].term } : undefined;
}

async function waitForLeader(clients: Record<string, ExecutorClient>, above: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leader = await leaderOf(clients);
    if (leader && leader.term > above) return leader;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const flag = (name: string, fallback: number) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? Number(rest[i + 1]) : fallback;
  };
  const targetAt = rest.indexOf('--target');
  const target = targetAt >= 0 ? rest[targetAt + 1] : 'executors';
  if (command !== 'kill-leader' || (target !== 'executors' && target !== 'books')) {
    console.error('usage: npm run chaos -- kill-leader [--target executors|books] [--times N] [--pause MS]');
    process.exit(2);
  }
  const file = pidFilePath();
  if (!fs.existsSync(file)) {
    console.error(`${file} not found: is \`npm start\` running (from this directory)?`);
    process.exit(1);
  }
  const clients: Record<string, ExecutorClient> =
    target === 'books'
      ? Object.fromEntries(Object.entries(readBooksDatabasePeers(process.env)).map(([id, a]) => [id, createClient(BooksDatabaseDefinition, createChannel(a))]))
      : Object.fromEntries(Object.entries(readExecutorPeers(process.env)).map(([id, a]) => [id, createClient(OrderExecutorDefinition, createChannel(a))]));
  const times = flag('times', 1);
  for (let i = 0; i < times; i++) {
    const leader = await waitForLeader(clients, 0);
    if (!leader) throw new Error('no leader to kill: is the cluster up?');
    const pid = readProcessTable(file)?.processes[leader.id];
    if (!pid) throw new Error(`no process id known for ${leader.id} in ${file}`);
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    console.log(`killed ${leader.id} (pid ${pid}), leader of term ${leader.term}; the launcher restarts it shortly`);
    const next = await waitForLeader(clients, leader.term);
    if (next) console.log(`new leader ${next.id} in term ${next.term} after ${Math.round(performance.now() - killedAt)} ms`);
    else console.log('no new leader within 10 s');
    if (i + 1 < times) await new Promise((r) => setTimeout(r, flag('pause', 3000)));
  }
  process.exit(0);
}

main().catch((err: Error) => {
  console.error(`chaos: ${err.message}`);
  process.exit(1);
});
