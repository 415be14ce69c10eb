/**
 * The simulated wall clock: startTime plus elapsed monotonic time times `speed`, plus
 * whatever advance() added. Speed 0 freezes it, so tests move time only explicitly.
 */
export class SimClock {
  private base: number
  private monoBase: number
  private speedValue: number

  constructor(
    startTime: number,
    speed: number,
    private readonly monotonicNow: () => number,
  ) {
    this.base = startTime
    this.monoBase = monotonicNow()
    this.speedValue = speed
  }

  /** Unix seconds (fractional). */
  now(): number {
    return this.base + ((this.monotonicNow() - this.monoBase) / 1000) * this.speedValue
  }

  get speed(): number {
    return this.speedValue
  }

  setSpeed(speed: number): void {
    if (!Number.isFinite(speed) || speed < 0) throw new Error(`speed ${speed} must be a number >= 0`)
    this.rebase()
    this.speedValue = speed
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`advance(${seconds}): seconds must be a number >= 0`)
    this.rebase()
    this.base += seconds
  }

  private rebase(): void {
    this.base = this.now()
    this.monoBase = this.monotonicNow()
  }
}
