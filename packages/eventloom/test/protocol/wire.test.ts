import { WorkflowError } from "eventloom";
import {
  CancelResponseSchema,
  EnvelopeSchema,
  ErrorBodySchema,
  HandlerDataSchema,
  HandlerListSchema,
  HealthSchema,
  parseEventsQuery,
  parseHandlersQuery,
  parseRunRequest,
  parseSendEventRequest,
  RepresentationSchema,
  RunNowaitResponseSchema,
  RunRequestSchema,
  SendEventRequestSchema,
  SendEventResponseSchema,
  WorkflowEventsResponseSchema,
  WorkflowListSchema,
  WorkflowSchemaResponseSchema,
} from "eventloom/protocol";
import { describe, expect, it } from "vitest";

// The examples of docs/HTTP-API.md and the seed, verbatim.
const handlerData = {
  handler_id: "someUniqueId123",
  workflow_name: "math_workflow",
  run_id: "uniqueRunId456",
  status: "completed",
  result: { sum: 15, subtraction: 9 },
  error: null,
  started_at: "2024-10-21T14:32:15.123Z",
  updated_at: "2024-10-21T14:45:30.456Z",
  completed_at: "2024-10-21T14:45:30.456Z",
};
const envelope = {
  value: { result: 12 },
  qualified_name: "__main__.MathEvent",
  type: "MathEvent",
  types: ["workflows.events.Event", "__main__.MathEvent"],
  sequence: 4,
};

function thrown(fn: () => unknown): WorkflowError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WorkflowError) return error;
    throw error;
  }
  throw new Error("expected a WorkflowError");
}

describe("wire schemas", () => {
  it("accept the spec's examples verbatim", () => {
    expect(HandlerDataSchema.parse(handlerData)).toEqual(handlerData);
    expect(EnvelopeSchema.parse(envelope)).toEqual(envelope);
    expect(HealthSchema.parse({ status: "healthy" })).toEqual({ status: "healthy" });
    expect(HealthSchema.parse({ status: "unhealthy" })).toEqual({ status: "unhealthy" });
    expect(WorkflowListSchema.parse({ workflows: ["greet", "human"] }).workflows).toEqual(["greet", "human"]);
    expect(RunRequestSchema.parse({ start_event: {}, context: {}, handler_id: "" })).toEqual({
      start_event: {},
      context: {},
      handler_id: "",
    });
    expect(RunRequestSchema.parse({})).toEqual({});
    expect(
      RunNowaitResponseSchema.parse({
        handler_id: "someUniqueId123",
        status: "started",
        workflow_name: "greet",
        run_id: "r1",
        started_at: "2024-10-21T14:32:15.123Z",
      }).status,
    ).toBe("started");
    const sent = {
      event: {
        __is_pydantic: true,
        value: { feedback: "This is great!", approved: true },
        qualified_name: "__main__.HumanFeedbackEvent",
      },
      step: "process_human_feedback",
    };
    expect(SendEventRequestSchema.parse(sent)).toEqual(sent);
    const typed = { event: { type: "ResponseEvent", value: { response: "Ada" } }, step: "greet_human" };
    expect(SendEventRequestSchema.parse(typed)).toEqual(typed);
    expect(SendEventResponseSchema.parse({ status: "sent" })).toEqual({ status: "sent" });
    expect(CancelResponseSchema.parse({ status: "cancelled" }).status).toBe("cancelled");
    expect(CancelResponseSchema.parse({ status: "deleted" }).status).toBe("deleted");
    expect(HandlerListSchema.parse({ handlers: [handlerData], next_cursor: null }).handlers).toHaveLength(1);
    expect(ErrorBodySchema.parse({ detail: "Handler not found", code: "HANDLER_NOT_FOUND" }).code).toBe(
      "HANDLER_NOT_FOUND",
    );
    expect(
      ErrorBodySchema.parse({
        detail: "Invalid",
        code: "VALIDATION_ERROR",
        issues: [{ path: "start_event.name", message: "Required" }],
      }).issues,
    ).toEqual([{ path: "start_event.name", message: "Required" }]);
    expect(WorkflowSchemaResponseSchema.parse({ start: { type: "object" }, stop: {} }).start).toEqual({
      type: "object",
    });
    expect(WorkflowEventsResponseSchema.parse({ events: [{ title: "StreamEvent" }] }).events).toHaveLength(1);
  });

  it("accept a representation with step, event and external nodes", () => {
    const graph = {
      graph: {
        name: "human",
        nodes: [
          { id: "prompt_human", label: "prompt_human", node_type: "step" },
          {
            id: "RequestEvent",
            label: "RequestEvent",
            node_type: "event",
            event_type: "RequestEvent",
            event_types: ["workflows.events.Event", "workflows.events.InputRequiredEvent", "RequestEvent"],
            event_schema: { type: "object" },
          },
          { id: "external_step", label: "external_step", node_type: "external" },
        ],
        edges: [
          { source: "prompt_human", target: "RequestEvent" },
          { source: "RequestEvent", target: "external_step" },
        ],
      },
    };
    expect(RepresentationSchema.parse(graph)).toEqual(graph);
    const badNode = structuredClone(graph);
    (badNode.graph.nodes[0] as { node_type: string }).node_type = "planet";
    expect(RepresentationSchema.safeParse(badNode).success).toBe(false);
  });

  it("reject wrong types", () => {
    expect(HandlerDataSchema.safeParse({ ...handlerData, status: "done" }).success).toBe(false);
    expect(HandlerDataSchema.safeParse({ ...handlerData, started_at: "yesterday" }).success).toBe(false);
    expect(HandlerDataSchema.safeParse({ ...handlerData, error: 3 }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...envelope, sequence: -1 }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...envelope, sequence: 1.5 }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...envelope, value: "x" }).success).toBe(false);
    expect(EnvelopeSchema.safeParse({ ...envelope, types: "x" }).success).toBe(false);
    expect(HealthSchema.safeParse({ status: "fine" }).success).toBe(false);
    expect(RunRequestSchema.safeParse({ handler_id: "has space" }).success).toBe(false);
    expect(RunRequestSchema.safeParse({ handler_id: "x".repeat(129) }).success).toBe(false);
    expect(RunRequestSchema.safeParse({ context: [] }).success).toBe(false);
    expect(RunRequestSchema.safeParse({ start_event: 5 }).success).toBe(false);
    expect(SendEventRequestSchema.safeParse({}).success).toBe(false);
    expect(SendEventRequestSchema.safeParse({ event: {}, step: 3 }).success).toBe(false);
    expect(HandlerListSchema.safeParse({ handlers: [] }).success).toBe(false);
    expect(ErrorBodySchema.safeParse({ detail: "x" }).success).toBe(false);
    expect(CancelResponseSchema.safeParse({ status: "canceled" }).success).toBe(false);
    expect(WorkflowListSchema.safeParse({ workflows: [1] }).success).toBe(false);
  });
});

describe("request parsing", () => {
  it("reads a missing run body as an empty one", () => {
    expect(parseRunRequest(undefined)).toEqual({});
  });

  it("answers a bad handler id with INVALID_HANDLER_ID and other bad fields with INVALID_BODY", () => {
    const badId = thrown(() => parseRunRequest({ handler_id: "../etc" }));
    expect(badId.code).toBe("INVALID_HANDLER_ID");
    expect(badId.issues?.[0]?.path).toBe("handler_id");
    const badContext = thrown(() => parseRunRequest({ context: "nope" }));
    expect(badContext.code).toBe("INVALID_BODY");
    expect(badContext.issues?.[0]?.path).toBe("context");
    expect(thrown(() => parseRunRequest([])).code).toBe("INVALID_BODY");
    expect(thrown(() => parseSendEventRequest({ step: "x" })).issues?.[0]?.path).toBe("event");
  });
});

describe("query parsing", () => {
  const q = (s: string) => new URLSearchParams(s);

  it("gives the events query its defaults", () => {
    expect(parseEventsQuery(q(""))).toEqual({
      sse: true,
      include_internal: false,
      include_qualified_name: true,
      include_deltas: false,
      include_children: false,
      after_sequence: -1,
    });
  });

  it("reads the seed's example query and after_sequence forms", () => {
    const parsed = parseEventsQuery(
      q("sse=false&acquire_timeout=1&include_internal=false&include_qualified_name=true"),
    );
    expect(parsed).toMatchObject({ sse: false, include_internal: false, include_qualified_name: true });
    expect(parseEventsQuery(q("after_sequence=now")).after_sequence).toBe("now");
    expect(parseEventsQuery(q("after_sequence=17")).after_sequence).toBe(17);
    expect(parseEventsQuery(q("after_sequence=-1")).after_sequence).toBe(-1);
    expect(parseEventsQuery(q("acquire_timeout=0.5")).acquire_timeout).toBe("0.5");
  });

  it("rejects a bad cursor, boolean or timeout with INVALID_QUERY and the parameter's path", () => {
    for (const bad of ["after_sequence=-2", "after_sequence=1.5", "after_sequence=abc", "after_sequence="]) {
      const error = thrown(() => parseEventsQuery(q(bad)));
      expect(error.code).toBe("INVALID_QUERY");
      expect(error.issues?.[0]?.path).toBe("after_sequence");
    }
    expect(thrown(() => parseEventsQuery(q("sse=yes"))).issues?.[0]?.path).toBe("sse");
    expect(thrown(() => parseEventsQuery(q("acquire_timeout=soon"))).issues?.[0]?.path).toBe(
      "acquire_timeout",
    );
  });

  it("reads repeatable handler filters and the limit", () => {
    expect(parseHandlersQuery(q(""))).toEqual({ status: [], workflow_name: [], limit: 100 });
    expect(
      parseHandlersQuery(q("status=running&status=failed&workflow_name=greet&limit=1000&cursor=abc")),
    ).toEqual({ status: ["running", "failed"], workflow_name: ["greet"], limit: 1000, cursor: "abc" });
    expect(parseHandlersQuery(q("limit=1")).limit).toBe(1);
  });

  it("rejects a limit outside 1..1000 and an unknown status", () => {
    for (const bad of ["limit=0", "limit=1001", "limit=-5", "limit=ten", "limit=01"]) {
      expect(thrown(() => parseHandlersQuery(q(bad))).issues?.[0]?.path).toBe("limit");
    }
    expect(thrown(() => parseHandlersQuery(q("status=done"))).issues?.[0]?.path).toBe("status.0");
  });
});
