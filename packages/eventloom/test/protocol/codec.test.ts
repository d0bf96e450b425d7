import type { PublishedEvent } from "eventloom";
import {
  EnvelopeSchema,
  fromEnvelope,
  fromHandlerData,
  HandlerDataSchema,
  toEnvelope,
  toHandlerData,
} from "eventloom/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const jsonValue = fc.jsonValue() as fc.Arbitrary<unknown>;
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
const published: fc.Arbitrary<PublishedEvent> = fc
  .record({
    sequence: fc.nat(),
    prefix: fc.array(name, { maxLength: 3 }),
    type: name,
    parents: fc.array(fc.string(), { maxLength: 4 }),
    value: fc.dictionary(
      fc.string().filter((k) => k !== "__proto__"),
      jsonValue,
    ),
    internal: fc.boolean(),
    timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  })
  .map(({ prefix, type, parents, ...rest }) => {
    const qualifiedName = [...prefix, type].join(".");
    return { ...rest, type, qualifiedName, types: ["workflows.events.Event", ...parents, qualifiedName] };
  });

describe("envelope codec", () => {
  it("round-trips a published event through the envelope and JSON", () => {
    fc.assert(
      fc.property(published, fc.boolean(), (event, includeQualifiedName) => {
        const wire = JSON.parse(JSON.stringify(toEnvelope(event, { includeQualifiedName })));
        const back = fromEnvelope(EnvelopeSchema.parse(wire));
        expect(back.type).toBe(event.type);
        expect(back.types).toEqual(event.types);
        expect(back.sequence).toBe(event.sequence);
        expect(back.value).toEqual(JSON.parse(JSON.stringify(event.value)));
        expect(back.qualifiedName).toBe(includeQualifiedName ? event.qualifiedName : undefined);
        expect("qualified_name" in wire).toBe(includeQualifiedName);
      }),
    );
  });

  it("includes the qualified name and the publication time by default, never the internal flag", () => {
    const event: PublishedEvent = {
      sequence: 0,
      type: "StopEvent",
      qualifiedName: "workflows.events.StopEvent",
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
      value: { result: 1 },
      internal: false,
      timestamp: "2024-10-21T14:32:15.123Z",
    };
    expect(toEnvelope(event)).toEqual({
      value: { result: 1 },
      qualified_name: "workflows.events.StopEvent",
      type: "StopEvent",
      types: ["workflows.events.Event", "workflows.events.StopEvent"],
      sequence: 0,
      timestamp: "2024-10-21T14:32:15.123Z",
    });
  });

  it("round-trips a handler record through HandlerData", () => {
    const record = {
      handlerId: "h1",
      workflowName: "greet",
      runId: "r1",
      status: "failed" as const,
      result: null,
      error: "Workflow timed out after 45s",
      startedAt: "2024-10-21T14:32:15.123Z",
      updatedAt: "2024-10-21T14:45:30.456Z",
      completedAt: "2024-10-21T14:45:30.456Z",
      workflowVersion: null,
      blocked: null,
    };
    const wire = HandlerDataSchema.parse(JSON.parse(JSON.stringify(toHandlerData(record))));
    expect(wire.handler_id).toBe("h1");
    expect(fromHandlerData(wire)).toEqual(record);
  });

  it("round-trips a blocked record's blocked object, its workflow version and a listing's result_truncated", () => {
    const record = {
      handlerId: "h2",
      workflowName: "greet",
      runId: "r2",
      status: "running" as const,
      result: null,
      error: null,
      startedAt: "2024-10-21T14:32:15.123Z",
      updatedAt: "2024-10-21T14:45:30.456Z",
      completedAt: null,
      workflowVersion: "3",
      blocked: { code: "SCHEMA_CHANGED" as const, detail: 'field "n"', since: "2024-10-21T14:45:30.456Z" },
      resultTruncated: true,
      errorTruncated: true,
    };
    const data = toHandlerData(record);
    expect(data).toMatchObject({
      workflow_version: "3",
      blocked: record.blocked,
      result_truncated: true,
      error_truncated: true,
    });
    const wire = HandlerDataSchema.parse(JSON.parse(JSON.stringify(data)));
    expect(fromHandlerData(wire)).toEqual(record);
    expect("result_truncated" in toHandlerData({ ...record, resultTruncated: false })).toBe(false);
  });
});
