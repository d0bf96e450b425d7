/** Upper bounds (seconds) of a step's duration: from a quick function to a long call out. */
export const STEP_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** Upper bounds (seconds) of one store commit: an fsync is a millisecond or so, a Postgres round trip a few. */
export const COMMIT_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * One histogram series with fixed buckets: an observation is a short scan and two increments, no
 * allocation. Counts are kept per bucket and made cumulative only when written out.
 */
export class Histogram {
  readonly bounds: readonly number[];
  /** One count per bound, and the last for values above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts as number[])[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}
