import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The ports the kernel hands out itself: to a listen on port 0 and to every outgoing connection. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return [low, high];
  } catch {
    return [32768, 60999];
  }
}

const listensOn = (port: number) => new Promise<boolean>((resolve) => {
  const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
});

/**
 * A port free now, for a process started later to listen on. Taken outside the kernel's ephemeral
 * range: one found by listening on port 0 lies inside it, and between this check and the child's bind
 * (seconds, for `npm start`) another test's port-0 server or any outgoing connection could take it
 * (seen: the dev server's UI port "address already in use").
 */
export async function freePort(): Promise<number> {
  const [low, high] = ephemeralRange();
  const candidates = [[10_000, low], [high + 1, 65_536]].filter(([from, to]) => to - from >= 1000);
  for (let tries = 0; candidates.length > 0 && tries < 100; tries++) {
    const [from, to] = candidates[Math.floor(Math.random() * candidates.length)];
    const port = from + Math.floor(Math.random() * (to - from));
    if (await listensOn(port)) return port;
  }
  throw new Error(`no free port outside the ephemeral range ${low}–${high}`);
}
