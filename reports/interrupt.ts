/**
 * SIGINT/SIGTERM during a long command: the first signal aborts the work (the command then writes what it has, marked
 * incomplete, and exits non-zero); a second one exits at once.
 */
export interface Interrupt {
  signal: AbortSignal;
  /** The signal that arrived, if any. */
  readonly received: NodeJS.Signals | undefined;
  dispose(): void;
}

export function onInterrupt(onFirst?: (sig: NodeJS.Signals) => void): Interrupt {
  const ctl = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`\natn: ${sig} again, exiting without writing\n`);
      process.exit(2);
    }
    received = sig;
    process.stderr.write(`\natn: ${sig}: stopping; writing the partial report (send it again to quit at once)\n`);
    onFirst?.(sig);
    ctl.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ctl.signal,
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * In-process targets (reference, impl, mutants) answer through promises that resolve at once, so a campaign over them
 * never returns to the event loop and a SIGINT/SIGTERM handler would only run at the end. This lets the event loop
 * turn (setImmediate) before a request when `everyMs` have passed since the last turn. It patches `handle` in place so
 * that what the target carries besides (a port's faults and hello) stays where the campaign looks for it.
 */
export function yieldingTarget<T extends { handle(req: R): Promise<S> }, R, S>(target: T, everyMs = 50): T {
  const inner = target.handle.bind(target);
  let last = Date.now();
  target.handle = async (req: R): Promise<S> => {
    if (Date.now() - last >= everyMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = Date.now();
    }
    return inner(req);
  };
  return target;
}
