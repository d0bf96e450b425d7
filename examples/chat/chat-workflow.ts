// A chat turn as a workflow: it may ask the user to confirm (a question the UI answers), may call a
// tool, then streams the model's answer with ctx.streamText: one durable write for the whole text,
// the tokens streamed live to whoever follows the run.
import { type LanguageModel, streamText } from "ai";
import {
  defineEvent,
  HumanResponseEvent,
  InputRequiredEvent,
  StartEvent,
  StopEvent,
  ToolCallEvent,
  ToolResultEvent,
  Workflow,
} from "eventloom";
import { z } from "zod";

/** A turn's start: the chat's messages as `useChat` sends them (UI messages with text parts). */
export const ChatStart = defineEvent(
  "ChatStart",
  z.object({
    chat_id: z.string().optional(),
    messages: z.array(
      z.looseObject({
        role: z.string(),
        parts: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).default([]),
      }),
    ),
  }),
  { extends: StartEvent },
);

/** Asked before booking anything: the UI shows it with two buttons. */
export const ConfirmBooking = defineEvent("ConfirmBooking", z.object({ question: z.string() }), {
  extends: InputRequiredEvent,
});
/** The user's answer to ConfirmBooking. */
export const BookingAnswer = defineEvent("BookingAnswer", z.object({ approved: z.boolean() }), {
  extends: HumanResponseEvent,
});

const Message = z.object({ role: z.enum(["user", "assistant"]), content: z.string() });
const Prompt = defineEvent("Prompt", z.object({ messages: z.array(Message) }));

/** The plain text of the UI messages, for the model. */
function toPrompt(messages: z.output<typeof ChatStart.schema>["messages"]): z.output<typeof Message>[] {
  return messages.flatMap((m) => {
    if (m.role !== "user" && m.role !== "assistant") return [];
    const content = m.parts.flatMap((p) => (p.type === "text" && p.text ? [p.text] : [])).join("");
    return content ? [{ role: m.role, content }] : [];
  });
}

/** A tool the answer step calls: the weather, made up (deterministic, offline). */
export function getWeather(city: string): { city: string; forecast: string } {
  return { city, forecast: city.length % 2 === 0 ? "sunny, 21°C" : "light rain, 14°C" };
}

/** The chat workflow, on any AI SDK language model. */
export function chatWorkflow(model: LanguageModel) {
  return new Workflow({ name: "chat", timeout: null })
    .step("check", { accepts: [ChatStart], emits: [Prompt], waitsFor: [BookingAnswer] }, async (ctx, ev) => {
      const messages = toPrompt(ev.data.messages);
      const last = messages[messages.length - 1];
      if (!last || !/\bbook\b/i.test(last.content)) return Prompt.create({ messages });
      // Runs again from here once answered (waitForEvent re-runs the step): nothing before it has effects.
      const answer = await ctx.waitForEvent(BookingAnswer, {
        waiterEvent: ConfirmBooking.create({ question: `Shall I go ahead: "${last.content}"?` }),
      });
      const note = answer.data.approved ? "(booking approved)" : "(booking declined)";
      return Prompt.create({
        messages: [...messages.slice(0, -1), { ...last, content: `${last.content} ${note}` }],
      });
    })
    .step("answer", { accepts: [Prompt], emits: [StopEvent] }, async (ctx, ev) => {
      const messages = ev.data.messages;
      const last = messages[messages.length - 1]?.content ?? "";
      const city = /weather in ([A-Za-z ]+)/i.exec(last)?.[1]?.trim();
      if (city) {
        const id = `weather-${crypto.randomUUID()}`;
        ctx.writeEventToStream(
          ToolCallEvent.create({ tool_call_id: id, tool_name: "get_weather", input: { city } }),
        );
        ctx.writeEventToStream(ToolResultEvent.create({ tool_call_id: id, output: getWeather(city) }));
      }
      const result = streamText({ model, messages, abortSignal: ctx.signal });
      const text = await ctx.streamText(result.textStream);
      return StopEvent.create({ result: text });
    });
}
