// A fake model's pace, set by the test: word i comes out once the test has released more than i words,
// so that a test stops a stream exactly where it wants (no timing).

export class WordGate {
  #released = 0;
  #waiters: (() => void)[] = [];

  /** Lets the first `n` words out (never fewer than already released). */
  release(n: number): void {
    this.#released = Math.max(this.#released, n);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once word `index` (from 0) may come out. */
  async pass(index: number): Promise<void> {
    while (index >= this.#released) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** The words, each with a trailing space but the last, at the gate's pace. */
  async *words(text: string): AsyncGenerator<string> {
    const words = text.split(" ");
    for (let i = 0; i < words.length; i++) {
      await this.pass(i);
      yield i < words.length - 1 ? `${words[i]} ` : (words[i] as string);
    }
  }
}
