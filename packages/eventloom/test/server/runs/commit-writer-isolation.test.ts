// The commit writer against a real store: a batch the store refuses because of one handler must not
// hold back the others, and must not be retried forever. Two runs of one handler at sequence 0 in
// the same batch is how "one retry wedges every write" reached the store.

import { MemoryStore } from "eventloom/server";
import { expect, it } from "vitest";
import { type CommitSource, CommitWriter } from "../../../src/server/runs/commit-writer.js";
import type { EventRow, HandlerRecord } from "../../../src/stores/store.js";

function source(handlerId: string): CommitSource {
  const record: HandlerRecord = {
    handlerId,
    workflowName: "w",
    runId: `run-${handlerId}`,
    status: "running",
    result: null,
    error: null,
    startedAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    completedAt: null,
  };
  return { handlerId, snapshot: () => ({ stateJson: "{}", record }) };
}

const row = (sequence: number, n: number): EventRow => ({
  sequence,
  json: JSON.stringify({ sequence, type: "Tick", value: { n } }),
});

it("two runs of one handler at the same sequence in a batch fail that handler alone; the other handler's changes are written and its flush resolves", async () => {
  const store = new MemoryStore();
  await store.init();
  const errors: { message: string; details?: Record<string, unknown> }[] = [];
  const writer = new CommitWriter(store, {
    onCommitted: () => {},
    logger: {
      info: () => {},
      warn: () => {},
      error: (message, details) => errors.push({ message, details }),
    },
    ownership: {
      shared: false,
      fences: () => [],
      holds: () => true,
      lost: () => {},
      committed: () => {},
      landed: () => {},
      drop: () => {},
    },
  });
  const dropped: string[] = [];
  writer.onUnwritable((id) => dropped.push(id));

  writer.changed(source("twice"), [row(0, 1)]);
  writer.changed(source("twice"), [row(0, 2)]); // a second run of the same handler, at sequence 0 again
  writer.changed(source("bystander"), [row(0, 3)]);
  expect(writer.holds("twice")).toBe(true);
  const twice = writer.flush("twice").then(
    () => null,
    (e: unknown) => e,
  );
  await writer.flush("bystander");

  expect((await twice) as { code?: string }).toMatchObject({ code: "SEQUENCE_CONFLICT" });
  expect(dropped).toEqual(["twice"]);
  expect(writer.holds("twice")).toBe(false);
  expect(await store.getHandler("twice")).toBeNull();
  expect(await store.lastSequence("bystander")).toBe(0);
  expect(errors.map((e) => [e.message, e.details?.["handlerId"], e.details?.["handlers"]])).toEqual([
    ["commit refused for one handler: its changes are dropped, the others are written", "twice", 2],
  ]);

  // Nothing loops: the next changes of either handler are written at once.
  writer.changed(source("bystander"), [row(1, 4)]);
  writer.changed(source("twice"), [row(0, 5)]);
  await writer.flush();
  expect(await store.lastSequence("bystander")).toBe(1);
  expect(await store.lastSequence("twice")).toBe(0);
  expect(errors).toHaveLength(1);
});
