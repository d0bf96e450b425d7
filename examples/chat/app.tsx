// The chat UI: the AI SDK's useChat on a workflow, through eventloom's WorkflowChatTransport. Reload
// the page mid-answer: the answer comes back where it was and goes on.
import { useChat } from "@ai-sdk/react";
import { lastAssistantMessageIsCompleteWithToolCalls, type UIMessage } from "ai";
import { WorkflowChatTransport } from "eventloom/ai-sdk";
import { WorkflowClient } from "eventloom/client";
import { type FormEvent, useState } from "react";
import { createRoot } from "react-dom/client";

const client = new WorkflowClient({ baseUrl: new URL("api", document.baseURI).href });
const transport = new WorkflowChatTransport({
  client,
  workflow: "chat",
  // the answer to ConfirmBooking is a BookingAnswer (the UI gives { approved })
  answerEvent: (_question, output) => ({ type: "BookingAnswer", value: output as { approved: boolean } }),
});
const CHAT_ID = "main";

function Part({
  part,
  answer,
}: {
  part: UIMessage["parts"][number];
  answer: (id: string, approved: boolean) => void;
}) {
  if (part.type === "text") return <p className="text">{part.text}</p>;
  if (part.type !== "dynamic-tool") return null;
  if (part.toolName === "ConfirmBooking") {
    const question = (part.input as { question?: string }).question;
    return (
      <div className="question" data-state={part.state}>
        <span>{question}</span>
        {part.state === "input-available" ? (
          <>
            <button type="button" onClick={() => answer(part.toolCallId, true)}>
              Yes
            </button>
            <button type="button" onClick={() => answer(part.toolCallId, false)}>
              No
            </button>
          </>
        ) : (
          <em className="answer">answered</em>
        )}
      </div>
    );
  }
  return (
    <div className="tool" data-state={part.state}>
      🔧 {part.toolName}({JSON.stringify(part.input)})
      {part.state === "output-available" ? ` → ${JSON.stringify(part.output)}` : " …"}
    </div>
  );
}

function Chat() {
  const [input, setInput] = useState("");
  const { messages, sendMessage, status, error, addToolOutput, setMessages } = useChat({
    id: CHAT_ID,
    transport,
    messages: transport.messagesOf(CHAT_ID),
    resume: true,
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!input.trim()) return;
    void sendMessage({ text: input });
    setInput("");
  };
  const answer = (toolCallId: string, approved: boolean) =>
    void addToolOutput({ tool: "ConfirmBooking", toolCallId, output: { approved } } as never);
  const clear = () => {
    transport.forget(CHAT_ID);
    setMessages([]);
  };
  return (
    <main>
      <h1>eventloom chat</h1>
      <ul className="messages">
        {messages.map((m) => (
          <li key={m.id} className={`message ${m.role}`}>
            <b>{m.role}</b>
            {m.parts.map((part, i) => (
              <Part key={i} part={part} answer={answer} />
            ))}
          </li>
        ))}
      </ul>
      <p className="status">{status}</p>
      {error ? <p className="error">{error.message}</p> : null}
      <form onSubmit={submit}>
        <input
          value={input}
          onChange={(e) => setInput(e.target.value)}
          placeholder="Try: weather in Paris, or book a table"
        />
        <button type="submit" disabled={status === "streaming" || status === "submitted"}>
          Send
        </button>
        <button type="button" onClick={clear}>
          New chat
        </button>
      </form>
    </main>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(<Chat />);
