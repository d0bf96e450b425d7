// The SQLite writer thread's entry (see writer.ts): every write of one SqliteStore runs here, on its
// own connection, so that the transaction's work and its fsync do not block the server's event loop.
import { parentPort, workerData } from "node:worker_threads";
import {
  toWire,
  unpackBatch,
  type WriterData,
  type WriterReply,
  type WriterRequest,
} from "./writer-protocol.js";
import { connect, prepareWrites } from "./writes.js";

const port = parentPort;
if (port === null) throw new Error("writer-thread.ts runs as a worker thread only");
const { path, options } = workerData as WriterData;
const db = connect(path, options);
const writes = prepareWrites(db);

port.on("message", (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    let value: unknown = null;
    switch (request.op) {
      case "commit":
        writes.commit(unpackBatch(request.batch));
        break;
      case "appendInbox":
        writes.appendInbox(request.handlerId, request.item);
        break;
      case "deleteHandler":
        value = writes.deleteHandler(request.handlerId);
        break;
      case "close":
        db.close();
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
