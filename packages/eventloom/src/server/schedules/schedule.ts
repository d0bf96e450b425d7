import { Cron } from "croner";
import { type EventDefinition, WorkflowError, type WorkflowEvent } from "../../core/index.js";
import { decodeStartEvent, type EventResolver } from "../../protocol/index.js";

/**
 * A schedule of `addWorkflow(name, wf, { schedules })`: each fire time of `cron` starts one run.
 *
 * @example
 * server.addWorkflow("report", report, { schedules: [{ cron: "0 2 * * *", timezone: "Europe/Paris" }] });
 */
export interface ScheduleOptions {
  /** Five fields (minute hour day-of-month month day-of-week), or six with seconds first. */
  cron: string;
  /** An IANA time zone the fields are read in (`Europe/Paris`); default UTC. */
  timezone?: string;
  /** The start event of each run: the event, or its fields (default: the start event with no fields). */
  startEvent?: WorkflowEvent | Record<string, unknown>;
  /** Names the schedule in the store and in `schedule_id`; default `<workflow>:<cron>` (and the zone). */
  id?: string;
}

/** A checked schedule of a registered workflow. */
export interface Schedule {
  id: string;
  workflowName: string;
  cron: string;
  timezone: string;
  start: WorkflowEvent;
  /** The first fire time after `epochMs` (epoch ms), or null when the expression has none left. */
  nextAfter(epochMs: number): number | null;
  /** The latest fire time at or before `epochMs`, or null when there was none. */
  latestAtOrBefore(epochMs: number): number | null;
}

/** Checks the schedules of one workflow; a bad cron, time zone or start event throws INVALID_WORKFLOW. */
export function checkSchedules(
  workflowName: string,
  options: readonly ScheduleOptions[] | undefined,
  start: { definition: EventDefinition; resolve: EventResolver },
): Schedule[] {
  if (options === undefined) return [];
  if (!Array.isArray(options)) throw invalid(workflowName, "schedules", "Expected an array of schedules");
  return options.map((o, i) => checkOne(workflowName, o, `schedules[${i}]`, start));
}

function checkOne(
  workflowName: string,
  o: ScheduleOptions,
  path: string,
  start: { definition: EventDefinition; resolve: EventResolver },
): Schedule {
  if (typeof o !== "object" || o === null)
    throw invalid(workflowName, path, "Expected { cron, timezone?, startEvent?, id? }");
  const cron = typeof o.cron === "string" ? o.cron.trim() : "";
  const fields = cron.split(/\s+/).length;
  if (cron === "" || (fields !== 5 && fields !== 6)) {
    throw invalid(
      workflowName,
      `${path}.cron`,
      `Expected 5 fields, or 6 with seconds first; got "${String(o.cron)}"`,
    );
  }
  const timezone = o.timezone ?? "UTC";
  if (typeof timezone !== "string" || !isTimeZone(timezone)) {
    throw invalid(workflowName, `${path}.timezone`, `"${String(timezone)}" is not an IANA time zone`);
  }
  let pattern: Cron;
  try {
    pattern = new Cron(cron, { timezone, paused: true });
    pattern.nextRun(new Date(0));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw invalid(workflowName, `${path}.cron`, `"${cron}" is not a valid cron expression: ${message}`);
  }
  const id = o.id ?? `${workflowName}:${cron}${o.timezone ? ` ${timezone}` : ""}`;
  if (typeof id !== "string" || id === "")
    throw invalid(workflowName, `${path}.id`, "Expected a non-empty string");
  let event: WorkflowEvent;
  try {
    event = decodeStartEvent(asForm(o.startEvent), start.definition, start.resolve, `${path}.startEvent`);
  } catch (error) {
    throw invalid(workflowName, `${path}.startEvent`, error instanceof Error ? error.message : String(error));
  }
  return {
    id,
    workflowName,
    cron,
    timezone,
    start: event,
    nextAfter: (ms) => pattern.nextRun(new Date(ms))?.getTime() ?? null,
    latestAtOrBefore: (ms) => {
      // Fire times fall on whole seconds: at most one in (ms - 1 s, ms]; croner's previous run
      // leaves out the current second.
      const recent = pattern.nextRun(new Date(ms - 1000))?.getTime();
      if (recent !== undefined && recent <= ms) return recent;
      return pattern.previousRuns(1, new Date(ms))[0]?.getTime() ?? null;
    },
  };
}

/** An event object (`Start.create({…})`) in the wire's form; fields and wire forms as they are. */
function asForm(value: ScheduleOptions["startEvent"]): unknown {
  if (value && typeof value.qualifiedName === "string" && typeof value.type === "string" && "data" in value) {
    const event = value as WorkflowEvent;
    return { type: event.type, qualified_name: event.qualifiedName, data: event.data };
  }
  return value;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone !== "";
  } catch {
    return false;
  }
}

function invalid(workflowName: string, path: string, message: string): WorkflowError {
  return new WorkflowError("INVALID_WORKFLOW", `Workflow "${workflowName}": ${path}: ${message}`, {
    issues: [{ path, message }],
  });
}
