import { SimClock } from './clock.js'
import { createControl } from './control.js'
import { generateHistory } from './history.js'
import { createControlApi } from './http/control-api.js'
import { RequestCounter } from './http/counters.js'
import { FaultTable } from './http/faults.js'
import { SimHttpServer } from './http/server.js'
import { generateLibrary } from './library/generate.js'
import { NotificationHub } from './live/notifications.js'
import { LiveState } from './live/state.js'
import { resolveOptions } from './options.js'
import { generatePeople } from './people.js'
import { hexString, mulberry32 } from './random.js'
import type { RunningSimulator, SimulatorOptions } from './types.js'
import { PMS_VERSION, type World } from './world.js'

export type * from './types.js'

/** How often the live clock is polled in real time; cheap when no 10-s tick is due. */
const LIVE_POLL_MS = 100

/**
 * Starts a simulated Plex Media Server (and the plex.tv shared_servers call) on a real
 * HTTP port. Everything is generated from `seed`; see docs/simulator.md.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const opts = resolveOptions(options)
  const machineIdentifier = hexString(mulberry32(opts.seed ^ 0x1d), 40)
  const library = generateLibrary(opts.seed, opts.items, opts.startTime)
  const people = generatePeople(opts.seed, opts.startTime, opts.sharedUsers)
  const history = generateHistory(library, {
    seed: opts.seed,
    rows: opts.historyRows,
    startTime: opts.startTime,
    accountIds: people.accounts.slice(1).map((a) => a.id),
    deviceCount: people.devices.length,
  })
  const clock = new SimClock(opts.startTime, opts.speed, opts.monotonicNow)
  const world: World = { opts, machineIdentifier, version: PMS_VERSION, library, history, people, clock }
  const hub = new NotificationHub()
  const live = new LiveState(world, opts.liveSessions, hub)
  const counter = new RequestCounter()
  // The fault table and the control need the server, which needs them: tie the knot late.
  const ref: { server?: SimHttpServer } = {}
  const faults = new FaultTable(() => {
    ref.server?.applyOutage().catch((err: unknown) => {
      process.stderr.write(
        `Plex simulator could not listen again after an expired outage: ${err instanceof Error ? err.message : String(err)}\n`,
      )
    })
  })
  const control = createControl({ world, live, hub, counter, faults, server: () => ref.server! })
  const server = new SimHttpServer(world, live, hub, counter, faults, createControlApi(control))
  ref.server = server
  await server.listen()
  const timer = setInterval(() => live.sync(), LIVE_POLL_MS)
  timer.unref()
  const port = server.boundPort
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    port,
    token: opts.token,
    machineIdentifier,
    control,
    async close() {
      clearInterval(timer)
      faults.clear()
      await server.close()
    },
  }
}
