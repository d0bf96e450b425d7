import { WorkflowError } from "../../core/index.js";

/**
 * Running handlers that the code now loaded cannot resume (their workflow is not registered, or
 * resuming them threw), with the reason. They stay `running` in the store: sending to one is 409
 * HANDLER_BLOCKED, cancelling one cancels it in the store without running it.
 */
export class BlockedRuns {
  readonly #reasons = new Map<string, string>();

  set(handlerId: string, reason: string): void {
    this.#reasons.set(handlerId, reason);
  }

  /** Its workflow is not registered in this process. */
  setUnregistered(handlerId: string, workflowName: string): void {
    this.#reasons.set(handlerId, `its workflow "${workflowName}" is not registered`);
  }

  has(handlerId: string): boolean {
    return this.#reasons.has(handlerId);
  }

  delete(handlerId: string): void {
    this.#reasons.delete(handlerId);
  }

  /** The 409 HANDLER_BLOCKED for a blocked handler; null when it is not blocked. */
  error(handlerId: string): WorkflowError | null {
    const reason = this.#reasons.get(handlerId);
    if (reason === undefined) return null;
    return new WorkflowError(
      "HANDLER_BLOCKED",
      `Handler "${handlerId}" is running but cannot go on with the code now loaded: ${reason}. Cancel it, or start the server with code that fits`,
    );
  }
}
