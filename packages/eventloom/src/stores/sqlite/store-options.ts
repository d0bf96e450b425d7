/** How a `SqliteStore` writes. */
export interface SqliteStoreOptions {
  /**
   * How hard SQLite works to make each commit durable (the database always runs in WAL mode).
   *
   * - `"full"` (default): every commit is fsynced before it resolves. A commit that resolved
   *   survives a crash of the process and a power loss or OS crash.
   * - `"normal"`: commits are written to the WAL but only fsynced at checkpoints. A commit that
   *   resolved survives a crash of the process (the OS still has it); a power loss or OS crash may
   *   lose the last commits (never corrupting the database). Several times faster for small commits.
   */
  synchronous?: "full" | "normal";
  /** How long a write waits for another process's lock before failing with SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Where writes run. `"thread"` (default for a file): in a worker thread with its own connection,
   * so that a commit's work and its fsync never block the event loop; reads stay on the calling
   * thread (WAL lets them run beside the writer). `"inline"`: on the calling thread (always the
   * case for `":memory:"`, whose database one connection cannot share; also for a bundler that
   * cannot ship the `writer-thread.js` module next to this one).
   */
  writer?: "thread" | "inline";
}
