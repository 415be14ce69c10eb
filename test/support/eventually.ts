// Waiting in tests. Time the service measures (TTLs, intervals, timeouts) moves with a ManualClock;
// these are for what a test cannot drive: real I/O on sockets, processes and servers.

/** Waits `ms` of real time. For real I/O only; a TTL or an interval is crossed with `ManualClock.advance`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns true, or fails after `timeoutMs` naming `what`. Resolves the ms it took. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  everyMs = 5,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(everyMs)
  }
}
