import { describe, expect, it } from 'vitest'
import { ManualClock, settle } from '../../src/cache/index.js'
import { PeriodicJob } from '../../src/jobs/periodic-job.js'

/** A job whose runs end only when the test says so, recording when each started. */
function heldJob(options: { intervalMs?: number; onError?: (error: unknown) => void } = {}) {
  const clock = new ManualClock()
  const starts: number[] = []
  const signals: AbortSignal[] = []
  const pending: Array<{ resolve: (n: number) => void; reject: (error: unknown) => void }> = []
  const job = new PeriodicJob<number>({
    clock,
    intervalMs: options.intervalMs ?? 1_000,
    onError: options.onError,
    run: (signal) => {
      starts.push(clock.now())
      signals.push(signal)
      return new Promise<number>((resolve, reject) => pending.push({ resolve, reject }))
    },
  })
  const finish = async (value = starts.length) => {
    pending.shift()!.resolve(value)
    await settle()
  }
  const fail = async (error: unknown) => {
    pending.shift()!.reject(error)
    await settle()
  }
  return { clock, job, starts, signals, finish, fail, inFlight: () => pending.length }
}

describe('PeriodicJob', () => {
  it('runs at start, then every interval timed from the start of the previous run', async () => {
    const { clock, job, starts, finish } = heldJob({ intervalMs: 1_000 })
    job.start()
    expect(starts).toEqual([])
    await clock.advance(0)
    expect(starts).toEqual([0])
    await clock.advance(300)
    await finish()
    await clock.advance(699)
    expect(starts).toEqual([0])
    await clock.advance(1)
    expect(starts).toEqual([0, 1_000])
    await finish()
    await job.stop()
  })

  it('never overlaps runs: a run longer than the interval is followed by the next at once', async () => {
    const { clock, job, starts, finish, inFlight } = heldJob({ intervalMs: 1_000 })
    job.start()
    await clock.advance(0)
    await clock.advance(3_500)
    expect(starts).toEqual([0])
    expect(clock.pendingTimers).toBe(0)
    await finish()
    expect(clock.pendingTimers).toBe(1)
    await clock.advance(0)
    expect(starts).toEqual([0, 3_500])
    expect(inFlight()).toBe(1)
    await finish()
    await job.stop()
  })

  it('runNow() joins the run in flight, and runs on its own when the schedule is not started', async () => {
    const { clock, job, starts, finish } = heldJob()
    const first = job.runNow()
    const joined = job.runNow()
    expect(joined).toBe(first)
    expect(starts).toEqual([0])
    await finish(42)
    expect(await joined).toBe(42)
    expect(clock.pendingTimers).toBe(0)

    const second = job.runNow()
    expect(starts).toEqual([0, 0])
    await finish(43)
    expect(await second).toBe(43)
  })

  it('stop() clears the timer, aborts the run in flight and waits for it to settle', async () => {
    const { clock, job, signals, finish } = heldJob()
    job.start()
    await clock.advance(0)
    let stopped = false
    const stopping = job.stop().then(() => (stopped = true))
    expect(signals[0]!.aborted).toBe(true)
    await settle()
    expect(stopped).toBe(false)
    await finish()
    await stopping
    expect(stopped).toBe(true)
    expect(job.running).toBe(false)
    expect(clock.pendingTimers).toBe(0)
  })

  it('schedules one chain of runs after a stop and a start while a run was in flight', async () => {
    const { clock, job, starts, finish } = heldJob({ intervalMs: 1_000 })
    job.start()
    await clock.advance(0)
    void job.stop()
    job.start()
    // The new start's first run joins the old, still settling run.
    await clock.advance(0)
    await finish()
    expect(clock.pendingTimers).toBe(1)
    await clock.advance(1_000)
    expect(starts).toEqual([0, 1_000])
    await finish()
    expect(clock.pendingTimers).toBe(1)
    await job.stop()
  })

  it('reports a failed scheduled run to onError and keeps the schedule; a runNow() caller gets the rejection', async () => {
    const errors: unknown[] = []
    const { clock, job, starts, fail } = heldJob({ intervalMs: 1_000, onError: (error) => errors.push(error) })
    job.start()
    await clock.advance(0)
    const boom = new Error('boom')
    await fail(boom)
    expect(errors).toEqual([boom])
    await clock.advance(1_000)
    expect(starts).toEqual([0, 1_000])
    const joined = job.runNow()
    await fail(new Error('again'))
    await expect(joined).rejects.toThrow('again')
    await job.stop()
  })
})
