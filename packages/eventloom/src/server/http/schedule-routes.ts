import { isoTime } from "../../core/clock.js";
import type { ScheduleData } from "../../protocol/index.js";
import { lastRun } from "../schedules/scheduler.js";
import type { ServerContext } from "../server-context.js";
import { type Answer, json } from "./answer.js";
import type { RouteHandlers } from "./route-handler.js";

/** GET /schedules: every registered schedule, its next fire time and the last run it started. */
async function listSchedules(ctx: ServerContext): Promise<Answer> {
  const { store, scheduler } = await ctx.runtime();
  const schedules = ctx.registry.schedules;
  const rows = new Map((await store.listSchedules(schedules.map((s) => s.id))).map((r) => [r.scheduleId, r]));
  const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : isoTime(ms));
  return json({
    schedules: schedules.map((s): ScheduleData => {
      const last = lastRun(rows.get(s.id));
      return {
        schedule_id: s.id,
        workflow_name: s.workflowName,
        cron: s.cron,
        timezone: s.timezone,
        next_fire_at: iso(scheduler.nextFireAt(s.id)),
        last_fire_at: iso(last?.fireAt),
        last_handler_id: last?.handlerId ?? null,
      };
    }),
  });
}

export const scheduleHandlers: RouteHandlers<"listSchedules"> = { listSchedules };
