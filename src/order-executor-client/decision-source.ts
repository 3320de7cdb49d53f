/**
 * Where a two-phase-commit participant learns the decision of a transaction it prepared and was never told the
 * outcome of (cooperative termination): the executor cluster, whose Raft log holds the coordinator's decisions.
 * "pending": no decision yet (or none to be had now); ask again later. A participant never decides alone after
 * voting yes.
 */
export interface DecisionSource {
  decision(txId: string, participant: string): Promise<{ decision: 'commit' | 'abort' | 'pending'; reason?: string }>;
}
