/** A handler's event log, sorted by sequence: parallel arrays of sequences and serialized events. */
export interface EventLog {
  sequences: number[];
  json: string[];
}

/** The index of the first sequence greater than `after`. */
export function firstGreater(sequences: number[], after: number): number {
  let lo = 0;
  let hi = sequences.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sequences[mid] ?? 0) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function indexOf(sequences: number[], sequence: number): number {
  const i = firstGreater(sequences, sequence - 1);
  return sequences[i] === sequence ? i : -1;
}

export function insertEvent(log: EventLog, sequence: number, json: string): void {
  const last = log.sequences[log.sequences.length - 1];
  if (last === undefined || sequence > last) {
    log.sequences.push(sequence);
    log.json.push(json);
    return;
  }
  const at = firstGreater(log.sequences, sequence);
  log.sequences.splice(at, 0, sequence);
  log.json.splice(at, 0, json);
}
