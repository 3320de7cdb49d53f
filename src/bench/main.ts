/**
 * `npm run bench`: measures Causeway on this machine, prints a table, and writes
 * bench/results/<date>.json (the README quotes the latest). Behaviour is tested
 * by `npm test`; this only measures.
 *
 * BENCH_KILLS (default 50) sets how many leader kills the failover measure uses.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startSystem } from '../launcher/harness';
import { measureFailover } from './failover';
import { table } from './stats';

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const kills = Number(process.env.BENCH_KILLS ?? 50);
  const log = (s: string) => process.stdout.write(`${s}\n`);
  log(`machine: ${machine()}`);

  log(`failover: ${kills} leader kills under load`);
  const system = await startSystem({
    FRAUD_CONTACT_VELOCITY_LIMIT: '100000000',
    FRAUD_CARD_VELOCITY_LIMIT: '100000000',
    // The victim comes back after the failover it caused: its start-up (~0.6 s of CPU) would otherwise compete with it.
    CAUSEWAY_RESTART_DELAY_MS: '1000',
  });
  let failover;
  try {
    failover = await measureFailover(system, kills, log);
  } finally {
    await system.stop();
  }

  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    failover: { kills: failover.kills, p50Ms: failover.p50Ms, p99Ms: failover.p99Ms, maxMs: failover.maxMs, electionP50Ms: failover.electionP50Ms },
  };
  log('');
  log(
    table([
      ['failover p50 (kill → first commit by new leader)', `${failover.p50Ms} ms`, '≤ 200 ms'],
      ['failover p99', `${failover.p99Ms} ms`, '≤ 500 ms'],
      ['failover max', `${failover.maxMs} ms`, ''],
      ['election p50 (kill → new leader)', `${failover.electionP50Ms} ms`, ''],
      ['kills', String(failover.kills), '≥ 50'],
    ]),
  );
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.date.slice(0, 10)}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  log(`\nwrote ${path.relative(ROOT, file)}`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
