/** How a majority is counted. */

export function quorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

/**
 * The highest index stored on a majority: sort the members' match indexes in
 * descending order and take the quorum-th one.
 */
export function majorityMatch(matches: readonly number[]): number {
  const sorted = [...matches].sort((a, b) => b - a);
  return sorted[quorum(matches.length) - 1] ?? 0;
}

/** granted/rejected tally of an election: 'won', 'lost', or still 'pending'. */
export function tally(votes: ReadonlyMap<string, boolean>, members: number): 'won' | 'lost' | 'pending' {
  let granted = 0;
  let rejected = 0;
  for (const v of votes.values()) v ? granted++ : rejected++;
  if (granted >= quorum(members)) return 'won';
  if (rejected >= quorum(members)) return 'lost';
  return 'pending';
}
