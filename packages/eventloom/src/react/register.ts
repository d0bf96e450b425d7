import type { StartEventFor, UntypedWorkflows, WorkflowMap } from "../client/types.js";
import type { AnyWorkflow, ResultOf } from "../core/workflow.js";

/**
 * Declare your server's workflows here once, and every hook is typed by them:
 *
 * @example
 * import type { workflows } from "./server.js";
 * declare module "eventloom/react" {
 *   interface Register { workflows: typeof workflows }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the user's declaration
export interface Register {}

/** The registered workflow map, or any workflow when none is registered. */
export type RegisteredWorkflows = Register extends { workflows: infer W extends WorkflowMap }
  ? W
  : UntypedWorkflows;

/** Names of the registered workflows (offered by completion), or any string. */
export type RegisteredName = (keyof RegisteredWorkflows & string) | (string & Record<never, never>);

/** The start event a registered workflow takes. */
export type RegisteredStart<N extends string> = StartEventFor<RegisteredWorkflows, N>;

/** The result of a registered workflow's run; unknown for other names. */
export type RegisteredResult<N extends string> = N extends keyof RegisteredWorkflows
  ? RegisteredWorkflows[N] extends AnyWorkflow
    ? ResultOf<RegisteredWorkflows[N]>
    : unknown
  : unknown;
