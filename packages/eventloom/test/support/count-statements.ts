// Statements each process sends to PostgreSQL, counted by wrapping the pg driver's Client.query (one
// round trip each: the store never pipelines) and told apart by the connections' application_name.
// For tests that check what an operation costs on each process: give each store its own name.
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

/**
 * Counts statements per application_name for the file's tests: `count(name)` all of one process's,
 * `count(name, text)` those whose SQL text contains `text`.
 */
export function useStatementCounts(): { count: (applicationName: string, text?: string) => number } {
  const texts = new Map<string, string[]>();
  const original = pg.Client.prototype.query;
  beforeAll(() => {
    (pg.Client.prototype as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
      const name = (this as unknown as { connectionParameters: { application_name?: string } })
        .connectionParameters.application_name;
      if (name) {
        const sql = typeof args[0] === "string" ? args[0] : ((args[0] as { text?: string })?.text ?? "");
        const list = texts.get(name) ?? [];
        list.push(sql);
        texts.set(name, list);
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
  });
  afterAll(() => {
    pg.Client.prototype.query = original;
  });
  return {
    count: (name, text) =>
      (texts.get(name) ?? []).filter((sql) => text === undefined || sql.includes(text)).length,
  };
}
