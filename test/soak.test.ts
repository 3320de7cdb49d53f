/**
 * The short chaos soak (`npm run chaos:soak -- --minutes N` runs the long one):
 * orders flow while executors are SIGKILLed and SIGSTOPped and the queue is
 * killed; afterwards nothing acknowledged is lost, nothing runs twice, nothing
 * unexpected runs, and the replicas agree.
 */
import { formatReport, soak } from '../src/bench/soak';

it('keeps a clean history under a 25 s nemesis', async () => {
  const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
  const lines: string[] = [];
  const report = await soak(25, (s) => lines.push(s), seed);
  const summary = `seed ${seed}\n${formatReport(report)}`;
  expect({ lost: report.lost, duplicated: report.duplicated, unexpected: report.unexpected, divergent: report.divergent, summary }).toEqual({
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    divergent: 0,
    summary,
  });
  // The soak did real work (how much depends on what else loads the machine: the fuzz test may share it).
  expect(report.acknowledged).toBeGreaterThan(20);
  expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
}, 240_000);
