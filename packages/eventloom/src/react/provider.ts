import { createContext, createElement, type ReactNode, useContext } from "react";
import type { WorkflowClient } from "../client/workflow-client.js";
import type { RegisteredWorkflows } from "./register.js";

// biome-ignore lint/suspicious/noExplicitAny: any client, whatever its workflow map
type AnyClient = WorkflowClient<any>;

const ClientContext = createContext<AnyClient | null>(null);

export interface WorkflowProviderProps {
  /** The client every hook below uses. Create it once (outside the component, or in a `useMemo`). */
  client: AnyClient;
  children?: ReactNode;
}

/**
 * Holds the WorkflowClient for the hooks of `eventloom/react`.
 *
 * @example
 * const client = new WorkflowClient({ baseUrl: "/api" });
 * root.render(<WorkflowProvider client={client}><App /></WorkflowProvider>);
 */
export function WorkflowProvider({ client, children }: WorkflowProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The provider's client, typed by the registered workflows. @throws Error outside a WorkflowProvider. */
export function useWorkflowClient(): WorkflowClient<RegisteredWorkflows> {
  const client = useContext(ClientContext);
  if (!client) throw new Error("eventloom/react: wrap your components in <WorkflowProvider client={…}>");
  return client as WorkflowClient<RegisteredWorkflows>;
}
