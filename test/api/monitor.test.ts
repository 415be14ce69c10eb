import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createRepos, DatabaseConnection, openSqlite } from '../../src/db/index.js'
import { ManualClock } from '../../src/cache/index.js'
import { checkUrl, type ServiceCheck } from '../../src/features/monitored-services/check.js'
import { ServiceMonitor } from '../../src/features/monitored-services/monitor.js'
import { answering, closedPortUrl, startTarget, type Target } from '../support/api-harness.js'
import { eventually, sleep } from '../support/eventually.js'

/** A real server that holds every request until the test releases it. */
async function gate() {
  const waiting: ServerResponse[] = []
  const target = await startTarget((_req, res) => void waiting.push(res))
  return {
    target,
    get waiting() {
      return waiting.length
    },
    release(status = 200) {
      for (const res of waiting.splice(0)) res.writeHead(status).end()
    },
  }
}

describe('service monitor', () => {
  let db: DatabaseConnection | undefined
  const targets: Target[] = []
  let monitor: ServiceMonitor | undefined

  afterEach(async () => {
    await monitor?.stop()
    monitor = undefined
    await db?.close()
    await Promise.all(targets.splice(0).map((target) => target.close()))
  })

  async function setUp(
    options: { concurrency?: number; intervalMs?: number; roundDeadlineMs?: number; check?: ServiceCheck } = {},
  ) {
    const clock = new ManualClock({ wallNow: Date.UTC(2025, 0, 15, 12, 0, 0) })
    db = new DatabaseConnection({ database: openSqlite(':memory:'), clock })
    await db.start()
    const repos = createRepos(db)
    monitor = new ServiceMonitor({
      services: repos.services,
      intervalMs: options.intervalMs ?? 30_000,
      timeoutMs: 5_000,
      concurrency: options.concurrency ?? 8,
      roundDeadlineMs: options.roundDeadlineMs,
      check: options.check,
      clock,
    })
    const add = (name: string, url: string) =>
      repos.services.insert(
        name,
        { name, url, type: 'app', description: null, icon: null, group: null },
        clock.wallNow(),
      )
    return { repos, clock, monitor, add }
  }

  it('never checks more services at once than its concurrency limit', async () => {
    const { monitor, add } = await setUp({ concurrency: 3 })
    const held = await gate()
    targets.push(held.target)
    for (let i = 0; i < 7; i++) await add(`s${i}`, `${held.target.url}/s${i}`)

    const round = monitor.runRound()
    for (const expected of [3, 3, 1]) {
      await eventually(`${expected} checks in flight`, () => held.waiting === expected)
      await sleep(60)
      expect(held.waiting).toBe(expected)
      held.release()
    }
    expect(await round).toMatchObject({ total: 7, online: 7, stopped: false })
    expect(held.target.requests).toBe(7)
  })

  it('starts no round while one runs, and times the next from the start of the last', async () => {
    const { monitor, clock, add, repos } = await setUp({ intervalMs: 30_000 })
    const held = await gate()
    targets.push(held.target)
    await add('a', `${held.target.url}/a`)
    await add('b', `${held.target.url}/b`)

    monitor.start()
    await clock.advance(0)
    await eventually('the first round to reach the server', () => held.waiting === 2)

    // Three intervals pass while the round hangs: no second round piles up.
    await clock.advance(90_000)
    await sleep(50)
    expect(held.target.requests).toBe(2)
    expect(clock.pendingTimers).toBe(0)

    // A round asked for meanwhile joins the running one.
    const joined = monitor.runRound()
    await sleep(50)
    expect(held.target.requests).toBe(2)

    held.release()
    expect((await joined).online).toBe(2)
    expect((await repos.services.get('a'))?.status).toBe('online')

    // The round took longer than the interval: the next one is due at once.
    await eventually('the next round to be scheduled', () => clock.pendingTimers === 1)
    await clock.advance(0)
    await eventually('the second round', () => held.waiting === 2)
    expect(held.target.requests).toBe(4)
    held.release()
  })

  it('waits out the rest of the interval after a quick round', async () => {
    const { monitor, clock, add } = await setUp({ intervalMs: 30_000 })
    const target = await answering(200)
    targets.push(target)
    await add('a', target.url)

    monitor.start()
    await clock.advance(0)
    await eventually('the round to finish', () => clock.pendingTimers === 1)
    expect(target.requests).toBe(1)

    await clock.advance(29_999)
    await sleep(30)
    expect(target.requests).toBe(1)
    await clock.advance(1)
    await eventually('the second round', () => target.requests === 2)
  })

  it('stop() aborts a hanging round, stores nothing from it and schedules no more', async () => {
    const { monitor, clock, add, repos } = await setUp()
    const held = await gate()
    targets.push(held.target)
    await add('a', held.target.url)

    monitor.start()
    await clock.advance(0)
    await eventually('the round to reach the server', () => held.waiting === 1)
    const started = Date.now()
    await monitor.stop()
    expect(Date.now() - started).toBeLessThan(1_000)
    expect((await repos.services.get('a'))?.lastCheckAt).toBeNull()
    expect(clock.pendingTimers).toBe(0)
  })

  it('stamps last_check with the injected wall clock and records offline services', async () => {
    const { monitor, clock, add, repos } = await setUp()
    await add('gone', await closedPortUrl())
    clock.setWallNow(Date.UTC(2030, 5, 1))
    await monitor.runRound()
    expect(await repos.services.get('gone')).toMatchObject({
      status: 'offline',
      lastCheckAt: Date.UTC(2030, 5, 1),
      responseTimeMs: null,
    })
  })

  it('ends a round at its deadline: unfinished services keep their status and go first next round', async () => {
    const checked: string[] = []
    const { monitor, clock, add, repos } = await setUp({
      concurrency: 1,
      roundDeadlineMs: 10_000,
      check: (url, options) => {
        checked.push(new URL(url).pathname)
        return checkUrl(url, options)
      },
    })
    const ok = await answering(200)
    const held = await gate()
    targets.push(ok, held.target)
    await add('a', `${ok.url}/a`)
    await add('b', `${held.target.url}/b`)
    await add('c', `${ok.url}/c`)

    const first = monitor.runRound()
    await eventually('b to hang', () => held.waiting === 1)
    await clock.advance(10_000)
    expect(await first).toMatchObject({ total: 3, online: 1, unreached: 2, stopped: false })
    expect(checked).toEqual(['/a', '/b'])
    expect([(await repos.services.get('b'))?.lastCheckAt, (await repos.services.get('c'))?.lastCheckAt]).toEqual([
      null,
      null,
    ])
    expect(clock.pendingTimers).toBe(0)

    held.release()
    checked.length = 0
    const second = monitor.runRound()
    await eventually('b to be asked again', () => held.waiting === 1)
    held.release()
    expect(await second).toMatchObject({ total: 3, online: 3, unreached: 0 })
    // Never-checked services first (in list order), then the oldest result.
    expect(checked).toEqual(['/b', '/c', '/a'])
  })

  it('checks new services in the background, at most `concurrency` at once', async () => {
    const { monitor, add, repos } = await setUp({ concurrency: 2 })
    const held = await gate()
    targets.push(held.target)
    for (const name of ['a', 'b', 'c']) monitor.checkInBackground(await add(name, `${held.target.url}/${name}`))
    await eventually('two background checks', () => held.waiting === 2)
    await sleep(50)
    expect(held.waiting).toBe(2)
    held.release()
    await eventually(
      'the two checks stored',
      async () => (await repos.services.list()).filter((s) => s.lastCheckAt !== null).length === 2,
    )
    expect((await repos.services.get('c'))?.lastCheckAt).toBeNull()
  })
})
