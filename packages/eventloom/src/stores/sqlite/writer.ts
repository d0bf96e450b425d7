import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { StoreClosedError } from "../store.js";
import type { FileIdentity } from "./file-guard.js";
import {
  fromWire,
  type WriterCall,
  type WriterData,
  type WriterReply,
  type WriterRequest,
} from "./writer-protocol.js";
import type { ConnectionOptions } from "./writes.js";

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * The main thread's side of a SqliteStore's writer thread: sends each write to it and resolves with
 * its reply. Writes run in the order they were sent. The thread starts on the first write; when it
 * dies, the writes in flight fail and the next write starts a new one. It keeps the process alive
 * only while a write is in flight.
 */
export class WriterThread {
  readonly #data: WriterData;
  #worker: Worker | null = null;
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #closing = false;

  constructor(path: string, options: ConnectionOptions) {
    this.#data = { path, options, file: null };
  }

  /** Tells the threads started from now on which file the store opened at the path. */
  opened(file: FileIdentity | null): void {
    this.#data.file = file;
  }

  call(call: WriterCall): Promise<unknown> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      const request: WriterRequest = { ...call, id };
      worker.postMessage(request);
    });
  }

  /** Finishes the writes sent so far, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.#worker === null) return;
    const worker = this.#worker;
    // Kept alive until it has exited, so that a process waiting on close() does not end first.
    this.#closing = true;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    await this.call({ op: "close" }).catch(() => {});
    await exited;
    this.#closing = false;
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = startWorker(this.#data);
    worker.unref();
    worker.on("message", (reply: WriterReply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0 && !this.#closing) worker.unref();
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(fromWire(reply.error));
    });
    const lost = (error: unknown) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(error);
    };
    worker.on("error", (error) => lost(error));
    worker.on("exit", () => lost(new StoreClosedError()));
    this.#worker = worker;
    return worker;
  }
}

/**
 * Starts the thread on its entry module: the compiled `writer-thread.js` next to this file. Run
 * from the TypeScript sources (this project's tests and benchmarks), where Node 20 cannot load a
 * worker's TypeScript through a loader, the entry is bundled to JavaScript with esbuild (tsx's
 * compiler) once per process.
 */
function startWorker(workerData: WriterData): Worker {
  if (!fileURLToPath(import.meta.url).endsWith(".ts")) {
    return new Worker(new URL("./writer-thread.js", import.meta.url), { workerData });
  }
  sourceEntry ??= bundleSourceEntry();
  return new Worker(sourceEntry, { eval: true, workerData });
}

let sourceEntry: string | undefined;

function bundleSourceEntry(): string {
  const require = createRequire(import.meta.url);
  const esbuild = require("esbuild") as {
    buildSync(options: object): { outputFiles: { text: string }[] };
  };
  const built = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL("./writer-thread.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    write: false,
    external: ["better-sqlite3"],
  });
  // An eval'd worker resolves modules from the working directory: hand it better-sqlite3's path.
  const sqlite = JSON.stringify(require.resolve("better-sqlite3"));
  return `((require) => {\n${built.outputFiles[0]?.text ?? ""}\n})((id) => require(id === "better-sqlite3" ? ${sqlite} : id));`;
}
