import { WorkflowClient } from "eventloom/client";
import type { JsonSchema } from "../schema-form/index.js";
import { refusalOf } from "../state/refusal.js";
import type {
  EventSchema,
  GraphNode,
  Run,
  RunEvent,
  RunStatus,
  Schedule,
  StartSchema,
  WorkflowGraph,
} from "./types.js";

/**
 * Everything the debugger asks the server, said once. Every call goes through `WorkflowClient`;
 * this layer only reshapes answers into what the components render.
 */
export class DebuggerApi {
  readonly #client: WorkflowClient;

  constructor(baseUrl: string, token: string | null) {
    this.#client = new WorkflowClient({
      baseUrl,
      ...(token ? { token } : {}),
      // Bound, so that the client may call it as a method without "Illegal invocation".
      fetch: (input, init) => globalThis.fetch(input, init),
    });
  }

  listWorkflows(): Promise<string[]> {
    return this.#client.listWorkflows();
  }

  async getSchema(workflow: string): Promise<StartSchema> {
    const schema = await this.#client.getWorkflowSchema(workflow);
    return { start: schema.start as JsonSchema, stop: schema.stop as JsonSchema };
  }

  async getEventSchemas(workflow: string): Promise<EventSchema[]> {
    const schemas = await this.#client.getEventSchemas(workflow);
    return schemas.map((schema) => {
      const s = schema as JsonSchema;
      return { type: s.title ?? "Event", schema: s };
    });
  }

  async getGraph(workflow: string): Promise<WorkflowGraph> {
    const graph = await this.#client.getWorkflowRepresentation(workflow);
    const nodes: GraphNode[] = graph.nodes.map((n) => ({
      id: n.id,
      label: n.label,
      nodeType: n.nodeType,
      eventType: n.nodeType === "event" ? n.eventType : undefined,
      eventTypes: n.nodeType === "event" ? n.eventTypes : [],
    }));
    return { nodes, edges: graph.edges.map((e) => ({ source: e.source, target: e.target })) };
  }

  /** A page of a workflow's runs, newest first, with the cursor of the next (older) page. */
  async listRuns(
    workflow: string,
    status: RunStatus | null,
    limit: number,
    cursor: string | null,
  ): Promise<{ runs: Run[]; cursor: string | null }> {
    const page = await this.#client.getHandlersPage({
      workflowName: workflow,
      limit,
      cursor,
      ...(status ? { status } : {}),
    });
    return { runs: page.handlers, cursor: page.nextCursor };
  }

  /** A page of the runs that wait for input, across workflows, newest first (pages may be short). */
  async listWaiting(limit: number, cursor: string | null): Promise<{ runs: Run[]; cursor: string | null }> {
    const page = await this.#client.getHandlersPage({ waiting: true, limit, cursor });
    return { runs: page.handlers, cursor: page.nextCursor };
  }

  /** A page of the blocked runs, across workflows (removed ones included), newest first. */
  async listBlocked(limit: number, cursor: string | null): Promise<{ runs: Run[]; cursor: string | null }> {
    const page = await this.#client.getHandlersPage({ blocked: true, limit, cursor });
    return { runs: page.handlers, cursor: page.nextCursor };
  }

  /** The server's schedules, with their next fire time and last run. */
  async listSchedules(): Promise<Schedule[]> {
    return await this.#client.listSchedules();
  }

  async getRun(handlerId: string): Promise<Run> {
    return await this.#client.getHandler(handlerId);
  }

  /** The runs a run started (`ctx.runWorkflow`), oldest first (the first 100). */
  async listChildren(handlerId: string): Promise<Run[]> {
    const page = await this.#client.getHandlersPage({ parentHandlerId: handlerId, limit: 100 });
    return page.handlers.reverse();
  }

  /** Starts a run; `type` (the start schema's title) keeps a field named "type" from being misread. */
  async startRun(
    workflow: string,
    type: string | undefined,
    value: Record<string, unknown>,
  ): Promise<string> {
    const started = await this.#client.runWorkflowNowait(workflow, {
      startEvent: type ? { type, value } : value,
    });
    return started.handlerId;
  }

  /** Every event of the run, internal ones included, from the first; resumes after dropped connections. */
  async *streamEvents(handlerId: string, signal: AbortSignal, afterSequence = -1): AsyncIterable<RunEvent> {
    const options = { includeInternal: true, signal, afterSequence };
    for await (const ev of this.#client.getWorkflowEvents(handlerId, options)) {
      const recorded = timestampOf(ev);
      yield {
        sequence: ev.sequence,
        type: ev.type,
        qualifiedName: ev.qualifiedName ?? ev.types[ev.types.length - 1] ?? ev.type,
        types: ev.types,
        value: ev.value,
        time: recorded ?? new Date().toISOString(),
        timeSource: recorded ? "server" : "received",
      };
    }
  }

  async sendEvent(
    handlerId: string,
    type: string,
    value: Record<string, unknown>,
    step?: string,
  ): Promise<void> {
    await this.#client.sendEvent(handlerId, { type, value }, step ? { step } : {});
  }

  /**
   * A new run from this one's (POST /handlers/{id}/fork): again from its kept start event, with
   * `startEvent` instead, or from the stored event at `fromSequence`. Resolves with the new run's id.
   */
  async forkRun(
    handlerId: string,
    from: { startEvent?: { type: string; value: Record<string, unknown> }; fromSequence?: number },
  ): Promise<string> {
    const started = await this.#client.forkHandler(handlerId, from);
    return started.handlerId;
  }

  async cancelRun(handlerId: string): Promise<void> {
    await this.#client.cancelHandler(handlerId);
  }
}

// The wire's envelope has no time yet; when it gains one (`timestamp`), it is shown instead of arrival.
function timestampOf(ev: object): string | undefined {
  const t = (ev as { timestamp?: unknown }).timestamp;
  return typeof t === "string" ? t : undefined;
}

/** True for the client's error when the server wants a (different) token. */
export function isUnauthorized(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { status?: unknown }).status === 401;
}

/** A sentence for a person out of whatever a call threw. */
export function describeError(error: unknown): string {
  const refused = refusalOf(error);
  if (refused !== null) return refused;
  if (typeof error === "object" && error !== null) {
    const e = error as { detail?: unknown; message?: unknown; issues?: unknown };
    const base =
      typeof e.detail === "string" ? e.detail : typeof e.message === "string" ? e.message : String(error);
    if (Array.isArray(e.issues) && e.issues.length > 0) {
      const list = e.issues
        .map((i: { path?: string; message?: string }) => (i.path ? `${i.path}: ${i.message}` : i.message))
        .join("; ");
      return `${base} (${list})`;
    }
    return base;
  }
  return String(error);
}
