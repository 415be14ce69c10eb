import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { startService, type TestApp } from '../support/api-harness.js'
import { KomandorrStandIn } from './stand-in.js'

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0)
const GB = 1024 ** 3
const naive = (ms: number) => new Date(ms).toISOString().replace('Z', '')

describe("in front of Komandorr: the dashboard stats read Komandorr's services and traffic", () => {
  let komandorr: KomandorrStandIn
  let service: TestApp

  beforeAll(async () => {
    komandorr = await KomandorrStandIn.start()
    komandorr.answers.set('/api/services/', [
      { id: 'a', status: 'online' },
      { id: 'b', status: 'online' },
      { id: 'c', status: 'offline' },
      { id: 'd', status: 'problem' },
    ])
    const hour = 3_600_000
    komandorr.answers.set('/api/traffic/summary', {
      total_services: 4,
      services: [
        {
          id: 'a',
          traffic_history: [
            // Two days ago, then within the last day: 2 GB down and 1 GB up inside 24 h, 5 GB more inside 30 d.
            { timestamp: naive(NOW - 48 * hour), total_up: 10, total_down: 20 },
            { timestamp: naive(NOW - 30 * hour), total_up: 10, total_down: 25 },
            { timestamp: naive(NOW - 2 * hour), total_up: 11, total_down: 27 },
          ],
        },
      ],
    })
    service = await startService({
      env: { KOMANDORR_URL: komandorr.url, LOG_LEVEL: 'info' },
      clock: new ManualClock({ now: 5_000_000, wallNow: NOW }),
    })
  })
  afterAll(async () => {
    await service?.close()
    await komandorr?.close()
  })

  it('counts services by status and traffic inside the windows from Komandorr, and runs no monitor', async () => {
    const response = await fetch(`${service.url}/api/plex/stats/dashboard`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      services: Record<string, number>
      traffic: Record<string, number>
    }
    expect(body.services).toEqual({ total: 4, online: 2, offline: 1, problem: 1 })
    expect(body.traffic.last_24h_download_bytes).toBe(2 * GB)
    expect(body.traffic.last_24h_upload_bytes).toBe(1 * GB)
    expect(body.traffic.last_30d_download_bytes).toBe(7 * GB)
    expect(komandorr.count('GET', '/api/services/')).toBe(1)
    expect(service.runtime.jobs.map((job) => job.name)).not.toContain(service.runtime.monitor.name)
  })
})
