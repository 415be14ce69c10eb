import type { Clock } from '../cache/index.js'

/** Refused by a Throttle: `retryAfterMs` until a slot frees; the message says what was refused and why. */
export class ThrottledError extends Error {
  override name = 'ThrottledError'

  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message)
  }
}

/** At most `max` starts in any `windowMs`, on the injected clock. */
export class Throttle {
  private readonly starts: number[] = []

  constructor(
    private readonly clock: Clock,
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Takes a slot, or throws a ThrottledError with `message` and the wait. */
  take(message: string): void {
    const now = this.clock.now()
    while (this.starts.length > 0 && this.starts[0]! <= now - this.windowMs) this.starts.shift()
    if (this.starts.length >= this.max) throw new ThrottledError(message, this.starts[0]! + this.windowMs - now)
    this.starts.push(now)
  }
}
