/** The dashboard's only way to the server: /api/v1 with the key as a bearer header, never in a URL. */
const STORAGE = 'mts-api-key';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** The key, kept while the tab is open (sessionStorage), and who it is. */
export const session = {
  get key(): string | null {
    return sessionStorage.getItem(STORAGE);
  },
  signIn(key: string) {
    sessionStorage.setItem(STORAGE, key);
    listeners.forEach((l) => l());
  },
  signOut() {
    sessionStorage.removeItem(STORAGE);
    listeners.forEach((l) => l());
  },
  onChange(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

const headers = (json: boolean): Record<string, string> => ({
  authorization: `Bearer ${session.key ?? ''}`, ...(json ? { 'content-type': 'application/json' } : {}),
});

/** A call to the API; a 401 signs out (back to the key prompt), any other error carries the API's message. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`/api/v1${path}`, {
    method: init.method ?? 'GET', headers: headers(init.body !== undefined), body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (res.status === 401) {
    session.signOut();
    throw new ApiError(401, 'the server refused the key (401): enter a valid one');
  }
  const data = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok) throw new ApiError(res.status, data?.error?.message ?? `HTTP ${res.status}`);
  return data as T;
}

/**
 * Server-Sent Events over fetch (EventSource cannot send the bearer header): calls `onEvent` for each
 * event until `signal` aborts, reconnecting after a dropped connection with the last event's id
 * (`Last-Event-ID`, as EventSource does), so a stream that stores its events (alerts) sends what was missed.
 */
export function subscribe(path: string, onEvent: (event: string, data: unknown) => void, signal: AbortSignal): void {
  let lastEventId: string | undefined;
  const run = async () => {
    while (!signal.aborted) {
      try {
        const res = await fetch(`/api/v1${path}`, {
          headers: { ...headers(false), ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) }, signal,
        });
        if (res.status === 401) return session.signOut();
        if (!res.ok || !res.body) throw new ApiError(res.status, `stream ${path}: HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
              else if (line.startsWith('id: ')) lastEventId = line.slice(4);
            }
            if (data.length) onEvent(event, JSON.parse(data.join('\n')));
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
}

/** `GET /market-data/coverage`: each asset's stored intervals with their first and last bar (epoch ms). */
export interface Coverage {
  assets: Array<{ asset: string; intervals: Array<{ intervalMinutes: number; first: number; last: number }> }>;
}
