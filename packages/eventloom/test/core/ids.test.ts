import { expect, test } from "vitest";
import { randomId, timeOrderedId } from "../../src/core/clock.js";

const ID = /^[A-Za-z0-9_-]{22}$/;

test("random ids are 22 URL-safe characters and do not repeat", () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => randomId()));
  expect(ids.size).toBe(10_000);
  for (const id of ids) expect(id).toMatch(ID);
});

test("time-ordered ids sort as their creation times do, and do not repeat within a millisecond", () => {
  const times = [0, 1, 63, 64, 4095, Date.parse("2026-11-25T08:00:00.000Z"), 2 ** 48 - 1];
  const ids = times.map((t) => timeOrderedId(t));
  for (const id of ids) expect(id).toMatch(ID);
  // Plain string comparison, as SQLite's BINARY collation and Postgres's "C" collation do it.
  expect([...ids].sort()).toEqual(ids);
  const sameMs = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_000)));
  expect(sameMs.size).toBe(10_000);
  const prefix = timeOrderedId(1_000).slice(0, 8);
  for (const id of sameMs) {
    expect(id.slice(0, 8)).toBe(prefix);
    expect(id < timeOrderedId(1_001)).toBe(true);
  }
});
