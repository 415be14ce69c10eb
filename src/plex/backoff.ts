export interface BackoffOptions {
  /** Delay before the first retry, default 1 000 ms. */
  initialMs?: number
  /** Cap on any delay, default 30 000 ms. */
  maxMs?: number
  /** Growth per failed attempt, default 2. */
  factor?: number
  /** Share of the delay removed at random (0..1), default 0.2, so many clients do not retry in lockstep. */
  jitter?: number
}

/** Delay before retry number `attempt` (1-based): exponential, capped at maxMs, minus up to `jitter` of it. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialMs ?? 1_000
  const max = opts.maxMs ?? 30_000
  const factor = opts.factor ?? 2
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2))
  const capped = Math.min(max, initial * factor ** Math.max(0, attempt - 1))
  return Math.round(capped * (1 - jitter * random()))
}
