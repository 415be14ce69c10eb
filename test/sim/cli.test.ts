import { describe, expect, it, vi } from 'vitest'
import { startChild, type RunningChild } from '../../bench/support/child-process.js'
import { parseArgs, parseFaultSpec } from '../../sim/cli/cli-args.js'
import { causeCode } from './helpers.js'
import { sleep } from '../support/eventually.js'

const READY = /^Plex simulator listening on (http:\/\/127\.0\.0\.1:\d+)/

/**
 * `npm run sim -- ARGS`, without npm: the simulator's command line in a child process, given to
 * `body`, then stopped with SIGTERM, which it must answer with exit code 0.
 */
async function withCli(args: string[], body: (sim: RunningChild) => Promise<void>): Promise<void> {
  const sim = await startChild({
    script: 'sim/cli/main.ts',
    args: ['--port', '0', '--items', '50', '--no-live', ...args],
    ready: READY,
  })
  try {
    await body(sim)
    expect(sim.child.exitCode).toBeNull()
    expect(await sim.stop()).toEqual({ code: 0, signal: null })
  } finally {
    await sim.stop()
  }
}

/** How GET /identity ends: its status, or the connection error's code. */
async function identity(url: string): Promise<number | string | undefined> {
  return fetch(`${url}/identity`).then(
    (res) => res.status,
    (err: unknown) => causeCode(err),
  )
}

describe('command line', () => {
  it('parses flags and fault specs, including endpoints that contain colons', () => {
    const args = parseArgs([
      '--port',
      '0',
      '--items',
      '5000',
      '--speed',
      '10',
      '--no-live',
      '--log',
      '--fault',
      '/library/sections/:id/all:latency=5000,error=0.5',
      '--fault',
      'outage,duration=3000',
    ])
    expect(args.options).toEqual({ port: 0, items: 5000, speed: 10, liveSessions: false, log: true })
    expect(args.faults).toEqual([
      { endpoint: '/library/sections/:id/all', latencyMs: 5000, errorRate: 0.5 },
      { endpoint: '*', mode: 'outage', durationMs: 3000 },
    ])
    expect(parseFaultSpec('/:/websockets/notifications:drop')).toEqual({
      endpoint: '/:/websockets/notifications',
      mode: 'drop',
    })
    expect(parseArgs(['--start-time', 'now'], () => 1234).options.startTime).toBe(1234)
  })

  it('rejects unknown flags and bad values with a message naming them', () => {
    expect(() => parseArgs(['--bogus'])).toThrow(/--bogus/)
    expect(() => parseArgs(['--items', 'many'])).toThrow(/--items/)
    expect(() => parseFaultSpec('/status/sessions:status=418')).toThrow(/status/)
    expect(() => parseFaultSpec('/status/sessions:explode')).toThrow(/explode/)
  })

  it('prints one listening line, serves, and exits on SIGTERM', async () => {
    await withCli(['--token', 'cli-token'], async (sim) => {
      expect(sim.tail()).not.toContain('cli-token')
      expect(await identity(sim.readyMatch)).toBe(200)
      expect((await fetch(`${sim.readyMatch}/accounts`, { headers: { 'X-Plex-Token': 'cli-token' } })).status).toBe(200)
    })
  })

  it("--fault 'outage,duration=MS': down at start, then listening again on the same port, the process alive", async () => {
    await withCli(['--fault', 'outage,duration=2000'], async (sim) => {
      expect(await identity(sim.readyMatch)).toBe('ECONNREFUSED')
      await vi.waitFor(async () => expect(await identity(sim.readyMatch)).toBe(200), { timeout: 10_000, interval: 50 })
    })
  })

  it('an outage set over the control API with durationMs ends with the simulator back, the process alive', async () => {
    await withCli([], async (sim) => {
      const url = sim.readyMatch
      const set = await fetch(`${url}/__simulator/faults`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ mode: 'outage', durationMs: 1000 }),
      })
      expect(set.status).toBe(200)
      await vi.waitFor(async () => expect(await identity(url)).toBe('ECONNREFUSED'), { timeout: 900, interval: 20 })
      await vi.waitFor(async () => expect(await identity(url)).toBe(200), { timeout: 10_000, interval: 50 })
    })
  })

  it('an outage without a duration keeps the process up, and down, until SIGTERM', async () => {
    await withCli(['--fault', 'outage'], async (sim) => {
      await sleep(500)
      expect(sim.child.exitCode).toBeNull()
      expect(await identity(sim.readyMatch)).toBe('ECONNREFUSED')
    })
  })
})
