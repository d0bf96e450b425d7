// The SQLite writer thread's entry (see writer.ts): every write of one SqliteStore runs here, on its
// own connection, so that the transaction's work and its fsync do not block the server's event loop.
import { parentPort, workerData } from "node:worker_threads";
import type Database from "better-sqlite3";
import { FileGuard } from "./file-guard.js";
import {
  toWire,
  unpackBatch,
  type WriterData,
  type WriterReply,
  type WriterRequest,
} from "./writer-protocol.js";
import { connect, prepareWrites, type Writes } from "./writes.js";

const port = parentPort;
if (port === null) throw new Error("writer-thread.ts runs as a worker thread only");
const { path, options, file } = workerData as WriterData;
// The store's file, not a new one at its path: a file deleted before this thread started is refused.
const guard = new FileGuard(path, file);
let db: Database.Database | null = null;
let writes: Writes | null = null;
let failed: unknown = null;
try {
  guard.before();
  db = connect(path, { ...options, fileMustExist: true });
  writes = prepareWrites(db, guard);
} catch (error) {
  db?.close();
  db = null;
  // Every write is answered with this error, so that the caller learns why.
  failed = error;
}

port.on("message", (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    let value: unknown = null;
    if (writes === null && request.op !== "close") throw failed;
    switch (request.op) {
      case "commit":
        writes?.commit(unpackBatch(request.batch));
        break;
      case "appendInbox":
        writes?.appendInbox(request.handlerId, request.item, request.key);
        break;
      case "deleteHandler":
        value = writes?.deleteHandler(request.handlerId, request.key);
        break;
      case "putKey":
        value = writes?.putKey(request.record);
        break;
      case "claimScheduleFire":
        value = writes?.claimScheduleFire(request.claim);
        break;
      case "deleteKeys":
        value = writes?.deleteKeys(request.createdBefore, request.limit);
        break;
      case "deleteEnded":
        value = writes?.deleteEnded(request.cutoffs, request.limit);
        break;
      case "admitQueued":
        value = writes?.admitQueued(request.limitKey, request.limit);
        break;
      case "reclaimSpace":
        value = writes?.reclaimSpace(request.pages);
        break;
      case "prepareRetention":
        writes?.prepareRetention();
        break;
      case "probe":
        writes?.probe();
        break;
      case "close":
        db?.close();
        port.postMessage({ id: request.id, ok: true, value: null } satisfies WriterReply);
        port.close();
        return;
    }
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    reply = { id: request.id, ok: false, error: toWire(error) };
  }
  port.postMessage(reply);
});
