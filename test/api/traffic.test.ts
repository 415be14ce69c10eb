import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BYTES_PER_GB, DAY_MS, HOUR_MS } from '../../src/features/traffic/traffic-log.js'
import { ManualClock } from '../../src/cache/index.js'
import { json, jsonInit, sqliteOf, type TestApp, startService } from '../support/api-harness.js'

describe('traffic', () => {
  let t: TestApp
  const clock = new ManualClock({ wallNow: Date.UTC(2025, 0, 15, 12, 0, 0) })

  beforeAll(async () => {
    t = await startService({ env: {}, runtime: { clock } })
    for (const id of ['seedbox', 'vps']) {
      await t.runtime.repos.services.insert(
        id,
        { name: id, url: 'http://127.0.0.1:9', type: 'server', description: null, icon: null, group: null },
        clock.wallNow(),
      )
    }
  })
  afterAll(() => t.close())

  const report = (serviceId: string, totalUp: number, totalDown: number) =>
    fetch(
      `${t.url}/api/traffic/update`,
      jsonInit('POST', {
        service_id: serviceId,
        bandwidth_up: 0.5,
        bandwidth_down: 2,
        total_up: totalUp,
        total_down: totalDown,
      }),
    )

  it('sums positive counter steps inside each window, treats a drop as a reset and keeps services apart', async () => {
    const start = clock.wallNow()
    const at = async (hoursAgoFromEnd: number, serviceId: string, up: number, down: number) => {
      clock.setWallNow(start + (48 - hoursAgoFromEnd) * HOUR_MS)
      const response = await report(serviceId, up, down)
      expect(response.status).toBe(200)
      expect(await json(response)).toEqual({ status: 'success', message: 'Traffic data updated' })
    }
    // Outside the 24 h window, inside the 30 d one.
    await at(40, 'seedbox', 1, 5)
    await at(23.5, 'seedbox', 2, 10) // +1 up, +5 down: crosses the 24 h edge, counts only in 30 d
    // Inside the 24 h window.
    await at(20, 'seedbox', 3, 12) // +1, +2
    await at(15, 'vps', 100, 200) // another agent's counters: never a step from seedbox's
    await at(10, 'seedbox', 0.5, 1) // agent restarted: a reset, not negative traffic
    await at(5, 'seedbox', 1.5, 4) // +1, +3
    await at(2, 'vps', 100.25, 201) // +0.25, +1
    clock.setWallNow(start + 48 * HOUR_MS)

    const day = await t.runtime.traffic.totals(DAY_MS)
    expect(day.uploadBytes).toBe(Math.round(2.25 * BYTES_PER_GB))
    expect(day.downloadBytes).toBe(Math.round(6 * BYTES_PER_GB))
    expect(day.totalBytes).toBe(day.uploadBytes + day.downloadBytes)

    const month = await t.runtime.traffic.totals(30 * DAY_MS)
    expect(month.uploadBytes).toBe(Math.round(3.25 * BYTES_PER_GB))
    expect(month.downloadBytes).toBe(Math.round(11 * BYTES_PER_GB))

    // A window with no pair of samples in it moved nothing.
    expect(await t.runtime.traffic.totals(HOUR_MS)).toEqual({ uploadBytes: 0, downloadBytes: 0, totalBytes: 0 })
  })

  it('answers 404 for an unknown service and stores nothing', async () => {
    const response = await report('no-such-service', 1, 1)
    expect(response.status).toBe(404)
    expect((await json(response)).detail).toContain('no-such-service')
    expect(
      sqliteOf(t).prepare("SELECT COUNT(*) AS n FROM traffic_samples WHERE service_id = 'no-such-service'").get(),
    ).toEqual({ n: 0 })
  })

  it('accepts the optional fields and ignores fields newer agents may add', async () => {
    const response = await fetch(
      `${t.url}/api/traffic/update`,
      jsonInit('POST', {
        service_id: 'vps',
        bandwidth_up: 1,
        bandwidth_down: 1,
        total_up: 200,
        total_down: 300,
        max_bandwidth: 125,
        cpu_percent: 12.5,
        memory_percent: 40,
        hostname: 'vps-1',
      }),
    )
    expect(response.status).toBe(200)
    expect(await t.runtime.traffic.latest('vps')).toMatchObject({
      totalUp: 200,
      maxBandwidth: 125,
      cpuPercent: 12.5,
      memoryPercent: 40,
      at: clock.wallNow(),
    })
  })

  it('prunes samples older than the retention when reports arrive, at most hourly', async () => {
    const before = (sqliteOf(t).prepare('SELECT COUNT(*) AS n FROM traffic_samples').get() as { n: number }).n
    expect(before).toBeGreaterThan(2)
    clock.setWallNow(clock.wallNow() + 40 * DAY_MS)
    expect((await report('vps', 1, 1)).status).toBe(200)
    expect(sqliteOf(t).prepare('SELECT COUNT(*) AS n FROM traffic_samples').get()).toEqual({ n: 1 })
  })
})
