/**
 * The qualified names of the built-in events, the one place they are spelled. Plain strings (no zod),
 * so that the client and the debugger can use them without loading the engine.
 */
export const BUILTIN_EVENT_NAMES = {
  event: "workflows.events.Event",
  start: "workflows.events.StartEvent",
  stop: "workflows.events.StopEvent",
  inputRequired: "workflows.events.InputRequiredEvent",
  humanResponse: "workflows.events.HumanResponseEvent",
  failed: "workflows.events.WorkflowFailedEvent",
  timedOut: "workflows.events.WorkflowTimedOutEvent",
  cancelled: "workflows.events.WorkflowCancelledEvent",
  stepState: "workflows.events.StepStateChanged",
  idle: "workflows.events.WorkflowIdleEvent",
  received: "workflows.events.EventReceived",
} as const;
