import { afterEach, describe, expect, it } from 'vitest'
import { LoaderTimeoutError, type CacheRegistry } from '../../src/cache/index.js'
import { deferred, setup, Upstream } from './helpers.js'

let registry: CacheRegistry
afterEach(() => registry.close())

const TTL = 10_000
const MAX_STALE = 120_000

/** A registry on a manual clock (closed after the test) with plex_sessions over a fresh upstream. */
function arrange(overrides: { maxStaleMs?: number; loadTimeoutMs?: number } = {}) {
  let clock
  ;({ clock, registry } = setup())
  const upstream = new Upstream()
  const sessions = registry.define({
    name: 'plex_sessions',
    key: 'plex:sessions',
    ttlMs: TTL,
    maxStaleMs: MAX_STALE,
    refreshAhead: false,
    ...overrides,
    load: upstream.load,
  })
  return { clock, upstream, sessions }
}

describe('stale on error with backoff', () => {
  it('serves the last good value while the loader is down and calls it once per backoff step', async () => {
    const { clock, upstream, sessions } = arrange()
    await sessions.read()
    upstream.failing = new Error('Plex answered 503')

    await clock.advance(TTL)
    const first = await sessions.read()
    expect(first).toMatchObject({ outcome: 'stale', error: upstream.failing })
    expect(first.entry.value).toEqual({ version: 1 })
    expect(upstream.calls).toBe(2)

    // Steps double from 1 s and stop growing at 30 s.
    for (const stepMs of [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]) {
      const calls = upstream.calls
      await clock.advance(stepMs - 1)
      expect((await sessions.read()).outcome).toBe('stale')
      expect(upstream.calls, `no call before the ${stepMs} ms step passes`).toBe(calls)
      await clock.advance(1)
      expect((await sessions.read()).outcome).toBe('stale')
      expect(upstream.calls, `one call once the ${stepMs} ms step passed`).toBe(calls + 1)
    }
    // The last retry runs behind the read that started it.
    await clock.advance(0)
    expect(sessions.counters.loadErrors).toBe(8)
  })

  it('the reader that starts the retry after a step gets the held value after the soft timeout, even when the retry hangs', async () => {
    const { clock, upstream, sessions } = arrange()
    await sessions.read()
    upstream.failing = new Error('Plex answered 503')
    await clock.advance(TTL)
    expect((await sessions.read()).outcome).toBe('stale')

    // Plex frozen: the retry never answers (until the loader's own timeout).
    upstream.failing = undefined
    const frozen = deferred()
    upstream.gate = frozen
    await clock.advance(1_000)
    const reading = sessions.read()
    await clock.advance(50) // the soft timeout
    const read = await Promise.race([
      reading,
      new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 200)),
    ])
    expect(read).toMatchObject({ outcome: 'stale', entry: { value: { version: 1 } } })
    expect(upstream.calls, 'the retry did start').toBe(3)

    frozen.resolve()
    await clock.advance(0)
    expect((await sessions.read()).entry.value).toEqual({ version: 3 })
  })

  it('fails once the value is older than TTL + maxStale, then serves fresh values when the loader is back', async () => {
    const { clock, upstream, sessions } = arrange()
    await sessions.read()
    upstream.failing = new Error('Plex answered 503')

    await clock.advance(TTL + MAX_STALE - 1)
    expect((await sessions.read()).outcome).toBe('stale')
    await clock.advance(1)
    await expect(sessions.read()).rejects.toBe(upstream.failing)
    expect(sessions.counters.entries).toBe(0)

    upstream.failing = undefined
    await clock.advance(30_000)
    const back = await sessions.read()
    expect(back.outcome).toBe('miss')
    expect(back.entry.value).toEqual({ version: upstream.calls })
    expect(sessions.ageMs(back.entry)).toBe(0)
  })

  it('during backoff without a stale value rejects with the last error and does not call the loader', async () => {
    const { clock, upstream, sessions } = arrange()
    upstream.failing = new Error('Plex answered 503')

    await expect(sessions.read()).rejects.toBe(upstream.failing)
    await clock.advance(999)
    await expect(sessions.read()).rejects.toBe(upstream.failing)
    expect(upstream.calls).toBe(1)
    await clock.advance(1)
    await expect(sessions.read()).rejects.toBe(upstream.failing)
    expect(upstream.calls).toBe(2)
  })

  it('never stores an error as a value', async () => {
    const { clock, upstream, sessions } = arrange()
    upstream.failing = new Error('Plex answered 503')
    await expect(sessions.read()).rejects.toThrow('503')
    expect(sessions.peek()).toBeUndefined()
    expect(sessions.counters).toMatchObject({ entries: 0, bytes: 0 })

    upstream.failing = undefined
    await clock.advance(1_000)
    expect(await sessions.read()).toMatchObject({ outcome: 'miss', entry: { value: { version: 2 } } })
  })

  it('a success resets the backoff to its first step', async () => {
    const { clock, upstream, sessions } = arrange()
    upstream.failing = new Error('down')
    await expect(sessions.read()).rejects.toThrow('down')
    await clock.advance(1_000)
    await expect(sessions.read()).rejects.toThrow('down')
    upstream.failing = undefined
    await clock.advance(2_000)
    await sessions.read()
    upstream.failing = new Error('down again')
    await clock.advance(TTL)
    expect((await sessions.read()).outcome).toBe('stale')
    const calls = upstream.calls
    await clock.advance(1_000)
    await sessions.read()
    expect(upstream.calls).toBe(calls + 1)
  })

  it('a loader that hangs fails after loadTimeoutMs, with its signal aborted, and stale is served', async () => {
    const { clock, upstream, sessions } = arrange({ loadTimeoutMs: 5_000 })
    await sessions.read()
    await clock.advance(TTL)
    upstream.gate = { promise: new Promise(() => {}), resolve() {}, reject() {} }
    const read = sessions.read()
    await clock.advance(4_999)
    expect(upstream.signals[1]?.aborted).toBe(false)
    const early = await read
    expect(early.outcome, 'the reader took the held value after the soft timeout').toBe('stale')
    expect(early.error).toBeUndefined()
    await clock.advance(1)
    expect(upstream.signals[1]?.aborted).toBe(true)
    expect(sessions.counters.loadErrors).toBe(1)
    const result = await sessions.read()
    expect(result.outcome).toBe('stale')
    expect(result.error).toBeInstanceOf(LoaderTimeoutError)
    expect(String(result.error)).toContain('did not finish within 5000 ms')
  })
})
