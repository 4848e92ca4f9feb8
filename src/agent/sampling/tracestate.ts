/**
 * Writing the sampling threshold into a W3C tracestate: OpenTelemetry keeps its values in the
 * `ot` member as `key:value` pairs separated by ';' (e.g. `ot=th:c;rv:...`).
 */

/** W3C: at most 32 members; a writer that adds one drops from the right. */
const MAX_MEMBERS = 32;

/**
 * The tracestate with `th:<thHex>` in its `ot` member, other `ot` values (such as rv) and other
 * members kept. The `ot` member moves to the front, as W3C asks of a member that was changed.
 */
export function withThreshold(traceState: string | null | undefined, thHex: string): string {
  if (!traceState) return `ot=th:${thHex}`;
  let otValues: string[] = [];
  let seenOt = false;
  const others: string[] = [];
  for (const raw of traceState.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    if (member.startsWith('ot=')) {
      // Keys are unique in a valid tracestate; a repeated `ot` is dropped rather than kept stale.
      if (!seenOt) otValues = member.slice(3).split(';').filter((kv) => kv !== '' && !kv.startsWith('th:'));
      seenOt = true;
    } else {
      others.push(member);
    }
  }
  const members = [`ot=${[`th:${thHex}`, ...otValues].join(';')}`, ...others];
  return members.slice(0, MAX_MEMBERS).join(',');
}
