/**
 * Ending everything a port started (ATN-8.11). A port runs in its own session and process group (spawn detached), and
 * a kill of the group reaches what its shell started. A grandchild that left both (`setsid sleep 45 &`) escapes the
 * group kill, and while it holds the port's stdout the runner would wait for it (forever for a daemon). So each port
 * is started with a token in its environment (ATN_PORT_TOKEN), which every process it starts inherits unless it
 * clears its environment; on Linux, processes carrying the token are found in /proc and killed (by token, not by
 * session id: a session id may be a reused pid once its leader is gone). Elsewhere only the group is killed. Best
 * effort, never throws.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export const TOKEN_VAR = 'ATN_PORT_TOKEN';

/** A fresh token for one port process. */
export function newToken(): string {
  return randomBytes(12).toString('hex');
}

function carries(pid: number, needle: Buffer): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(needle);
  } catch {
    return false; // gone, or not ours to read
  }
}

/** Pids this process sent SIGKILL to that may not have ended yet (settle waits for them). */
const dying = new Set<number>();

/** Whether pid still runs: listed in /proc and neither a zombie (Z) nor dead (X). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Waits (at most ms) until every process reap() killed has ended. SIGKILL is delivered asynchronously: a process
 * killed a moment ago may still be running (on a loaded machine for many milliseconds), so a runner that returns at
 * once would leave something behind for a while. Best effort, never throws.
 */
export async function settle(ms = 2000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    for (const pid of dying) if (!running(pid)) dying.delete(pid);
    if (dying.size === 0 || Date.now() - t0 >= ms) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Kills (SIGKILL) the processes whose environment carries `token`, except this one; returns their pids. */
export function reap(token: string): number[] {
  if (process.platform !== 'linux') return [];
  const needle = Buffer.from(`${TOKEN_VAR}=${token}\0`);
  const killed: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    if (carries(pid, needle))
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
        dying.add(pid);
      } catch {
        /* already gone */
      }
  }
  return killed;
}
