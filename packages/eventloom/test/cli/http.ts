// Plain-fetch helpers for tests that talk to a served CLI.

export type Envelope = Record<string, unknown> & {
  type: string;
  sequence: number;
  value: Record<string, unknown>;
};

export async function getJson(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export const postJson = (url: string, body: unknown) =>
  getJson(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/**
 * Reads an NDJSON event stream, calling `onEvent` for each envelope, until `onEvent` returns true,
 * the stream ends, or the connection drops (a killed server): never throws for a dropped connection.
 * Resolves with the envelopes read and whether the stream ended normally.
 */
export async function readEvents(
  url: string,
  onEvent: (ev: Envelope) => boolean | undefined = () => false,
): Promise<{ events: Envelope[]; ended: boolean; status: number }> {
  const events: Envelope[] = [];
  let res: Response;
  try {
    res = await fetch(url);
  } catch {
    return { events, ended: false, status: 0 };
  }
  if (res.status !== 200 || !res.body) return { events, ended: res.status === 204, status: res.status };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { events, ended: true, status: 200 };
      buffered += decoder.decode(value, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        const ev = JSON.parse(line) as Envelope;
        events.push(ev);
        if (onEvent(ev)) {
          await reader.cancel().catch(() => undefined);
          return { events, ended: false, status: 200 };
        }
      }
    }
  } catch {
    return { events, ended: false, status: 200 };
  }
}
