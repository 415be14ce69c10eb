import { describe, expect, it } from 'vitest'
import { createSystemClock, ManualClock, systemClock } from '../../src/cache/index.js'
import { sleep } from '../support/eventually.js'

describe('ManualClock', () => {
  it('fires due timers in time order, each at its own time, settling promise chains between them', async () => {
    const clock = new ManualClock()
    const fired: string[] = []
    clock.setTimer(() => fired.push(`b@${clock.now()}`), 20)
    clock.setTimer(() => {
      fired.push(`a@${clock.now()}`)
      void Promise.resolve().then(() => clock.setTimer(() => fired.push(`chained@${clock.now()}`), 5))
    }, 10)
    const cleared = clock.setTimer(() => fired.push('cleared'), 15)
    clock.setTimer(() => fired.push('late'), 31)
    clock.clearTimer(cleared)

    await clock.advance(30)
    expect(fired).toEqual(['a@10', 'chained@15', 'b@20'])
    expect(clock.now()).toBe(30)
    expect(clock.pendingTimers).toBe(1)
  })

  it('moves the wall clock with the monotonic one', async () => {
    const clock = new ManualClock({ wallNow: 1_000_000 })
    await clock.advance(1_500)
    expect(clock.wallNow()).toBe(1_001_500)
  })

  it('sets the wall clock (even backwards) without moving monotonic time or firing timers', async () => {
    const clock = new ManualClock({ now: 500, wallNow: 1_000_000 })
    let fired = false
    clock.setTimer(() => (fired = true), 10)
    clock.setWallNow(400_000)
    expect(clock.wallNow()).toBe(400_000)
    expect(clock.now()).toBe(500)
    await clock.advance(10)
    expect(fired).toBe(true)
    expect(clock.wallNow()).toBe(400_010)
  })
})

describe('systemClock', () => {
  it('never lets a timer keep the process alive', () => {
    const handle = systemClock.setTimer(() => {}, 60_000) as NodeJS.Timeout
    expect(handle.hasRef()).toBe(false)
    systemClock.clearTimer(handle)
  })

  it('is monotonic and follows real time at its resolution', async () => {
    const clock = createSystemClock(1)
    const start = clock.now()
    await sleep(20)
    const later = clock.now()
    expect(later).toBeGreaterThan(start + 10)
    expect(Math.abs(clock.wallNow() - Date.now())).toBeLessThan(5)
  })
})
