import { createHash } from "node:crypto";
import { type Clock, isoTime, randomId } from "../../core/clock.js";
import { type HandlerRecord, notBegunRecord, type ScheduleRow, type Store } from "../../stores/store.js";
import { background } from "../clock-timers.js";
import type { ServerLogger } from "../logger.js";
import type { Schedule } from "./schedule.js";

export interface SchedulerContext {
  store: Store;
  clock: Clock;
  logger: ServerLogger;
  schedules: readonly Schedule[];
  /** The version of a registered workflow (its runs' records carry it). */
  versionOf(workflowName: string): string | null;
  /** Starts a claimed run: loads its handler, which has no state yet, and runs it from its start event. */
  start(handlerId: string): Promise<unknown>;
}

/**
 * The schedules of one server: one clock timer for the earliest next fire time of them all. When it
 * is due, the fire time is claimed in the store with its run's handler (one transaction; any number
 * of processes race, one wins), and the winner starts the run. A run claimed by a process that died
 * before starting it is a running handler with no state: a restart or a takeover starts it.
 */
export class Scheduler {
  readonly #c: SchedulerContext;
  readonly #next = new Map<string, number | null>();
  #timer: unknown = null;
  #stopped = false;

  constructor(context: SchedulerContext) {
    this.#c = context;
  }

  /**
   * After the server's start: a fire time missed while no process ran (the latest one only) is
   * started now; a schedule seen for the first time is marked as seen, starting nothing. Then the timer.
   */
  async start(): Promise<void> {
    const { store, clock, schedules } = this.#c;
    if (schedules.length === 0) return;
    const now = clock.now();
    const rows = new Map(
      (await store.listSchedules(schedules.map((s) => s.id))).map((r) => [r.scheduleId, r]),
    );
    await Promise.all(
      schedules.map(async (s) => {
        const row = rows.get(s.id);
        const due = s.latestAtOrBefore(now);
        if (!row)
          await store.claimScheduleFire({ scheduleId: s.id, fireAt: now, handler: null, startEvent: null });
        else if (due !== null && due > row.lastFireAt) await this.#fire(s, due);
        this.#next.set(s.id, s.nextAfter(now));
      }),
    );
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) this.#c.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** When each schedule fires next (epoch ms; null when it never will), by schedule id. */
  nextFireAt(scheduleId: string): number | null {
    const known = this.#next.get(scheduleId);
    if (known !== undefined) return known;
    const schedule = this.#c.schedules.find((s) => s.id === scheduleId);
    return schedule?.nextAfter(this.#c.clock.now()) ?? null;
  }

  #arm(): void {
    if (this.#stopped) return;
    if (this.#timer !== null) this.#c.clock.clearTimeout(this.#timer);
    this.#timer = null;
    let earliest: number | null = null;
    for (const at of this.#next.values())
      if (at !== null && (earliest === null || at < earliest)) earliest = at;
    if (earliest === null) return;
    const delay = Math.max(0, earliest - this.#c.clock.now());
    this.#timer = background(this.#c.clock, () => void this.#tick(), delay);
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    const now = this.#c.clock.now();
    const due: { schedule: Schedule; times: number[] }[] = [];
    for (const schedule of this.#c.schedules) {
      const at = this.#next.get(schedule.id);
      if (at === null || at === undefined || at > now) continue;
      due.push({ schedule, times: fireTimes(schedule, at, now) });
      // Set before the claims: a slow store does not make this process fire a time twice.
      this.#next.set(schedule.id, schedule.nextAfter(now));
    }
    this.#arm();
    // In order: a claim of a later fire time shuts out the earlier ones.
    await Promise.all(
      due.map(async ({ schedule, times }) => {
        for (const t of times) await this.#fire(schedule, t);
      }),
    );
  }

  /** Claims `fireAt` for `schedule` and, when this process got it, starts its run. */
  async #fire(schedule: Schedule, fireAt: number): Promise<void> {
    const { store, clock, logger } = this.#c;
    const handler = scheduledRecord(schedule, fireAt, clock.now(), this.#c.versionOf(schedule.workflowName));
    const { type, qualifiedName, data } = schedule.start;
    try {
      const claimed = await store.claimScheduleFire({
        scheduleId: schedule.id,
        fireAt,
        handler,
        startEvent: JSON.stringify({ type, qualifiedName, data }),
      });
      if (claimed && !this.#stopped) await this.#c.start(handler.handlerId);
    } catch (error) {
      // Claimed and not started: the handler is in the store, a restart or a takeover starts it.
      if (!this.#stopped)
        logger.error("a schedule could not fire", { scheduleId: schedule.id, fireAt, error });
    }
  }
}

/**
 * A process held up (a busy event loop) fires each fire time it missed since `from`, up to
 * {@link MAX_LATE_FIRES} of them; more than that counts as downtime: only the latest is started.
 */
const MAX_LATE_FIRES = 10;

function fireTimes(schedule: Schedule, from: number, now: number): number[] {
  const times: number[] = [];
  for (let t: number | null = from; t !== null && t <= now; t = schedule.nextAfter(t)) {
    times.push(t);
    if (times.length > MAX_LATE_FIRES) return [schedule.latestAtOrBefore(now) ?? now];
  }
  return times.length > 0 ? times : [now];
}

/**
 * The handler id of a schedule's run for one fire time: the same in every process, so that one fire
 * time can never make two handlers. `sched-<hash of the schedule id>-<fire time, UTC>`.
 */
export function scheduledRunId(scheduleId: string, fireAt: number): string {
  const hash = createHash("sha256").update(scheduleId).digest("base64url").slice(0, 12);
  const time = isoTime(fireAt)
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `sched-${hash}-${time}`;
}

/** The record a claim writes: a running handler whose run is yet to start. */
function scheduledRecord(s: Schedule, fireAt: number, now: number, version: string | null): HandlerRecord {
  const handlerId = scheduledRunId(s.id, fireAt);
  const fields = { handlerId, workflowName: s.workflowName, runId: randomId(), workflowVersion: version };
  return notBegunRecord({ ...fields, scheduleId: s.id }, isoTime(now));
}

/** The last claimed fire time that started a run (a row's first mark started none). */
export const lastRun = (row: ScheduleRow | undefined) =>
  row?.lastHandlerId ? { fireAt: row.lastFireAt, handlerId: row.lastHandlerId } : null;
