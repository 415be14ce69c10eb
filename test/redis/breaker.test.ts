import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCacheRegistry, ManualClock, percentiles, type Cache, type CacheRegistry } from '../../src/cache/index.js'
import { CircuitBreaker, type BreakerState, type RedisLayer } from '../../src/cache/redis/index.js'
import { Layers, PrivateRedis } from './helpers.js'
import { eventually, sleep } from '../support/eventually.js'

describe('circuit breaker', () => {
  function breakerWithProbe(options: { threshold?: number } = {}) {
    const clock = new ManualClock()
    const probe = { answers: false, calls: 0 }
    const changes: BreakerState[] = []
    const breaker = new CircuitBreaker({
      clock,
      failureThreshold: options.threshold ?? 3,
      probeIntervalMs: 500,
      probe: async () => {
        probe.calls++
        if (!probe.answers) throw new Error('connect ECONNREFUSED 127.0.0.1:6399')
      },
      onChange: (state) => changes.push(state),
    })
    return { clock, probe, changes, breaker }
  }

  it('opens after N consecutive failures, not after N failures with successes between', () => {
    const { breaker } = breakerWithProbe()
    breaker.failed(new Error('Command timed out'))
    breaker.failed(new Error('Command timed out'))
    breaker.succeeded()
    breaker.failed(new Error('Command timed out'))
    breaker.failed(new Error('Command timed out'))
    expect(breaker.state).toBe('closed')
    breaker.failed(new Error('Command timed out'))
    expect(breaker.state).toBe('open')
    expect(breaker.lastError).toBe('Command timed out')
  })

  it('while open, answers the fallback without calling', async () => {
    const { breaker } = breakerWithProbe({ threshold: 1 })
    breaker.failed(new Error('down'))
    let called = false
    const answer = await breaker.run('fallback', async () => {
      called = true
      return 'redis'
    })
    expect(answer).toBe('fallback')
    expect(called).toBe(false)
  })

  it('probes on its interval (half-open) and closes when the probe answers', async () => {
    const { clock, probe, changes, breaker } = breakerWithProbe({ threshold: 1 })
    breaker.failed(new Error('down'))
    await clock.advance(499)
    expect(probe.calls).toBe(0)
    await clock.advance(1)
    expect(probe.calls).toBe(1)
    expect(breaker.state).toBe('open')
    await clock.advance(500)
    expect(probe.calls).toBe(2)
    probe.answers = true
    await clock.advance(500)
    expect(breaker.state).toBe('closed')
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'open', 'half-open', 'closed'])
    await clock.advance(5_000)
    expect(probe.calls, 'no probes while closed').toBe(3)
  })

  it('a failure counted while the probe runs does not reopen or double-count', async () => {
    const { clock, probe, breaker } = breakerWithProbe({ threshold: 1 })
    breaker.trip(new Error('the connection to Redis closed'))
    expect(breaker.state).toBe('open')
    probe.answers = true
    breaker.probeSoon()
    await clock.advance(0)
    expect(breaker.state).toBe('closed')
    expect(probe.calls).toBe(1)
  })

  it('counts a call that throws as a failure and answers the fallback', async () => {
    const { breaker } = breakerWithProbe({ threshold: 2 })
    const failing = () => breaker.run(undefined, () => Promise.reject(new Error('Command timed out')))
    expect(await failing()).toBeUndefined()
    expect(breaker.state).toBe('closed')
    await failing()
    expect(breaker.state).toBe('open')
  })

  it('whenClosed resolves at the close, or false at its deadline', async () => {
    const { clock, probe, breaker } = breakerWithProbe({ threshold: 1 })
    breaker.failed(new Error('down'))
    const early = breaker.whenClosed(100)
    const late = breaker.whenClosed(10_000)
    await clock.advance(100)
    expect(await early).toBe(false)
    probe.answers = true
    await clock.advance(400)
    expect(await late).toBe(true)
  })
})

describe('Redis outage drills (private redis-server)', () => {
  let server: PrivateRedis
  const layers = new Layers()
  const registries: CacheRegistry[] = []

  beforeAll(async () => {
    server = await PrivateRedis.start()
  })
  afterEach(async () => {
    for (const registry of registries.splice(0)) registry.close()
    await layers.closeAll()
    // A drill that failed between kill (or pause) and restart leaves no server for the next one.
    server.resume()
    if (!server.running) await server.restart()
  })
  afterAll(async () => {
    await server.stop()
  })

  /**
   * A registry on the private Redis with the production deadline (50 ms), and readers that keep
   * reading 50 keys whose TTL is short enough that most reads reach Redis.
   */
  async function readersAgainstRedis(prefix: string) {
    const layer = await layers.create(server.settings(prefix))
    const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
    registries.push(registry)
    const history = registry.define({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 20,
      refreshAhead: false,
      keyOf: (n: number) => `limit=${n}`,
      load: (n) => ({ rows: n }),
    })
    const latencies: number[] = []
    const failures: unknown[] = []
    let running = true
    const reader = async (): Promise<void> => {
      for (let i = 0; running; i++) {
        const started = performance.now()
        try {
          const read = await history.read(i % 50)
          if ((read.entry.value as { rows: number }).rows !== i % 50) failures.push(new Error('wrong value'))
        } catch (error) {
          failures.push(error)
        }
        latencies.push(performance.now() - started)
        await sleep(1)
      }
    }
    const readers = Array.from({ length: 4 }, reader)
    return {
      layer,
      history: history as Cache<unknown, number>,
      latencies,
      failures,
      async stop() {
        running = false
        await Promise.all(readers)
      },
    }
  }

  async function closesAfterReturn(layer: RedisLayer): Promise<number> {
    return eventually('the breaker closes after Redis came back', () => layer.breaker.state === 'closed', 5_000)
  }

  it('Redis killed under load: no read fails, reads do not wait, the breaker closes within 2 s of its return', async () => {
    const run = await readersAgainstRedis('drill:kill:')
    await sleep(300)
    await server.kill()
    await eventually('the breaker opens', () => run.layer.breaker.state !== 'closed', 2_000)
    const during = run.latencies.length
    // Counted, not timed: on a loaded machine the readers' 1 ms sleeps stretch, but reads must go on.
    await eventually('50 more reads while Redis is dead', () => run.latencies.length - during > 50, 5_000)
    await server.restart()
    const closedAfterMs = await closesAfterReturn(run.layer)
    await sleep(200)
    await run.stop()

    expect(run.failures).toEqual([])
    const p = percentiles(run.latencies)!
    expect(p.p99, `read p99 ${p.p99.toFixed(1)} ms over ${p.samples} reads`).toBeLessThan(100)
    expect(closedAfterMs).toBeLessThan(2_000)
    expect(run.layer.status()).toMatchObject({ connected: true, state: 'closed', lastError: expect.any(String) })
  })

  it('Redis frozen (SIGSTOP): calls time out instead of hanging, the breaker opens, and closes after SIGCONT', async () => {
    const run = await readersAgainstRedis('drill:stop:')
    await sleep(300)
    server.pause()
    try {
      await eventually('the breaker opens', () => run.layer.breaker.state !== 'closed', 2_000)
      await sleep(500)
      expect(run.layer.status().lastError).toMatch(/did not answer within 50 ms/)
    } finally {
      server.resume()
    }
    const closedAfterMs = await closesAfterReturn(run.layer)
    await sleep(200)
    await run.stop()

    expect(run.failures).toEqual([])
    const p = percentiles(run.latencies)!
    expect(p.p99, `read p99 ${p.p99.toFixed(1)} ms over ${p.samples} reads`).toBeLessThan(100)
    // A lock SET or release lost in the freeze must not make a later read wait out its lease.
    expect(Math.max(...run.latencies), 'slowest read (ms)').toBeLessThan(1_000)
    expect(closedAfterMs).toBeLessThan(2_000)
  })

  it('a lock whose release was lost with the connection is freed when Redis answers again', async () => {
    const layer = await layers.create(server.settings('drill:orphan:'), { lockLeaseMs: 60_000 })
    const admin = new Redis(server.url)
    try {
      const loaded = await layer.coordinator.run('plex:stats', async () => {
        // The command connection drops mid-load (Redis itself stays up, with the lock).
        await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
        await eventually('the layer saw its connection drop', () => layer.breaker.state !== 'closed', 1_000)
        return 'loaded'
      })
      expect(loaded).toBe('loaded')
      await eventually(
        'the orphaned lock is gone',
        async () => (await admin.exists('drill:orphan:lock:plex:stats')) === 0,
        3_000,
      )
    } finally {
      admin.disconnect()
    }
  })

  it('a layer started while Redis is down serves from memory and takes Redis up when it appears', async () => {
    await server.kill()
    const layer = layers.createUnconnected(server.settings('drill:late:', { timeoutMs: 1_000 }))
    const registry = createCacheRegistry({ shared: layer.shared, coordinator: layer.coordinator, bus: layer.bus })
    registries.push(registry)
    let loads = 0
    const stats = registry.define({ name: 'plex_stats', key: 'plex:stats', ttlMs: 60_000, load: () => ++loads })
    const started = performance.now()
    expect((await stats.read()).entry.value).toBe(1)
    expect(performance.now() - started).toBeLessThan(100)
    expect(layer.status()).toMatchObject({ connected: false, state: expect.stringMatching(/open/) })

    await server.restart()
    expect(await layer.whenConnected(3_000)).toBe(true)
    // Its first subscription drops memory (it may have missed clears): let that pass first.
    await eventually('the bus subscribed', () => layer.bus.subscribed, 3_000)
    await registry.reload('plex_stats')
    expect(await layer.shared.get('plex:stats')).toMatchObject({ json: '2' })
  })
})
