import { expect, test } from "vitest";
import { randomId, timeOrderedId } from "../../src/core/clock.js";

const ID = /^[A-Za-z0-9_-]{22}$/;
/** What the HTTP API accepts as a client-supplied handler id: a generated id must pass it too. */
const CLIENT_HANDLER_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const LATEST_MS = 63 * 64 ** 7 - 1; // the year 10750

test("random ids are 22 URL-safe characters and do not repeat", () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => randomId()));
  expect(ids.size).toBe(10_000);
  for (const id of ids) expect(id).toMatch(ID);
});

test("random ids never start with '-' (curl and CLIs would read it as an option), and their first character takes every other value", () => {
  const ids = Array.from({ length: 50_000 }, () => randomId());
  expect(ids.filter((id) => id.startsWith("-") || !CLIENT_HANDLER_ID.test(id))).toEqual([]);
  // 63 values each drawn ~800 times: all appear, so the first character still carries ~6 random bits.
  expect(new Set(ids.map((id) => id[0])).size).toBe(63);
});

test("time-ordered ids never start with '-', from the epoch to the latest time they hold", () => {
  const times = [0, 1, Date.now(), Date.parse("2109-05-15T07:35:11.104Z"), LATEST_MS];
  for (let i = 0; i < 20_000; i++) times.push(Math.floor(Math.random() * LATEST_MS));
  const ids = times.map((t) => timeOrderedId(t));
  expect(ids.filter((id) => id.startsWith("-") || !CLIENT_HANDLER_ID.test(id))).toEqual([]);
});

test("time-ordered ids sort as their creation times do, and do not repeat within a millisecond", () => {
  const times = [0, 1, 63, 64, 4095, Date.parse("2026-11-25T08:00:00.000Z"), 64 ** 7, LATEST_MS];
  for (let i = 0; i < 5_000; i++) times.push(Math.floor(Math.random() * LATEST_MS));
  times.sort((a, b) => a - b);
  const ids = times.map((t) => timeOrderedId(t));
  for (const id of ids) expect(id).toMatch(ID);
  // Plain string comparison, as SQLite's BINARY collation and Postgres's "C" collation do it.
  const byString = [...ids].sort();
  for (let i = 0; i < ids.length; i++) if (times[i] !== times[i - 1]) expect(byString[i]).toBe(ids[i]);
  const sameMs = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_000)));
  expect(sameMs.size).toBe(10_000);
  const prefix = timeOrderedId(1_000).slice(0, 8);
  for (const id of sameMs) {
    expect(id.slice(0, 8)).toBe(prefix);
    expect(id < timeOrderedId(1_001)).toBe(true);
  }
});

test("time-ordered ids made now sort after those made before the first character skipped '-'", () => {
  // Ids stored by earlier versions began with '-' (the time's top digit, zero until 2109).
  const older = `-${timeOrderedId(Date.now()).slice(1)}`;
  expect(timeOrderedId(Date.now()) > older).toBe(true);
});
