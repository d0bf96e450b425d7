import { quoteIdent } from "./migrations.js";

/** The store's tables, qualified by its schema (quoted), as its statements name them. */
export function tablesOf(schema: string) {
  const s = quoteIdent(schema);
  return {
    handlers: `${s}.handlers`,
    events: `${s}.events`,
    states: `${s}.states`,
    inbox: `${s}.inbox`,
    changes: `${s}.changes`,
    leases: `${s}.leases`,
    keys: `${s}.idempotency_keys`,
    starts: `${s}.start_events`,
    /** The schema itself (quoted): its functions. */
    schema: s,
    /** The fencing tokens' sequence, as a string literal (for `nextval`). */
    tokenSequence: `'${`${s}.lease_tokens`.replaceAll("'", "''")}'`,
  };
}

export type Tables = ReturnType<typeof tablesOf>;
