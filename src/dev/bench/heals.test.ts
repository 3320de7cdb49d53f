import { disturbedBy, electionsByHealedNode, type HealSample } from './heals';

/** A heal of executor-3, rejoined 400 ms after the heal, with the elections and others' pre-votes given. */
function heal(elections: HealSample['elections'], othersPreVotes: HealSample['othersPreVotes'] = []): HealSample {
  return {
    case: 'leader',
    node: 'executor-3',
    cutMs: 800,
    rejoinMs: 400,
    healMs: 50,
    healedAt: 0,
    termAtHeal: 5,
    termAfter: elections.length ? 6 : 5,
    elections,
    othersPreVotes,
  };
}

describe('which elections a heal caused', () => {
  it('counts an election the healed node starts on its way back while the others still follow the leader', () => {
    expect(electionsByHealedNode(heal([{ by: 'executor-3', afterHealMs: 200 }]))).toHaveLength(1);
  });

  it('does not count one the healed node starts after another executor lost the leader (its pre-vote came first)', () => {
    const s = heal([{ by: 'executor-3', afterHealMs: 250 }], [{ by: 'executor-2', afterHealMs: 200 }]);
    expect(electionsByHealedNode(s)).toHaveLength(0);
  });

  it('does not count one started after the healed node had rejoined', () => {
    expect(electionsByHealedNode(heal([{ by: 'executor-3', afterHealMs: 600 }]))).toHaveLength(0);
  });

  it('calls a heal disturbed when another executor started an election before the rejoin, not after it', () => {
    expect(disturbedBy(heal([{ by: 'executor-1', afterHealMs: 300 }]))).toEqual({ by: 'executor-1', afterHealMs: 300 });
    expect(disturbedBy(heal([{ by: 'executor-1', afterHealMs: 500 }]))).toBeUndefined();
    expect(disturbedBy(heal([{ by: 'executor-3', afterHealMs: 300 }]))).toBeUndefined();
  });
});
