import type { HistoryStore } from './history.js'
import type { RequestCounter } from './http/counters.js'
import { validateFault, type FaultTable } from './http/faults.js'
import type { SimHttpServer } from './http/server.js'
import { activityInfo } from './live/activities.js'
import type { NotificationHub } from './live/notifications.js'
import { sessionInfo } from './live/sessions.js'
import type { LiveState } from './live/state.js'
import { TYPE_NAME } from './library/types.js'
import type { Fault, SimulatorControl, SimulatorState } from './types.js'
import type { World } from './world.js'

export interface ControlDeps {
  world: World
  live: LiveState
  hub: NotificationHub
  counter: RequestCounter
  faults: FaultTable
  server: () => SimHttpServer
}

function byTypeName(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [type, n] of Object.entries(counts)) out[TYPE_NAME[Number(type)] ?? type] = n
  return out
}

function newestViewedAt(history: HistoryStore): number {
  return history.size > 0 ? history.viewedAt[history.size - 1]! : 0
}

/** The in-process control: the same powers as the HTTP control API. */
export function createControl(deps: ControlDeps): SimulatorControl {
  const { world, live, hub, counter, faults } = deps
  const synced = <T>(fn: () => T): T => {
    live.sync()
    return fn()
  }
  return {
    requestCounts: () => counter.snapshot(),
    totalRequests: () => counter.totalRequests(),
    resetCounts: () => counter.reset(),
    async setFault(fault: Fault) {
      faults.set(validateFault(fault))
      await deps.server().applyOutage()
    },
    async clearFaults() {
      faults.clear()
      await deps.server().applyOutage()
    },
    faults: () => faults.list(),
    advance(seconds: number) {
      live.sync()
      world.clock.advance(seconds)
      live.sync()
    },
    setSpeed(speed: number) {
      live.sync()
      world.clock.setSpeed(speed)
    },
    now: () => Math.floor(world.clock.now()),
    startSession: (opts) => synced(() => sessionInfo(world, live.startSession(opts))),
    stopSession: (key) => synced(() => live.stopSession(String(key))),
    pauseSession: (key) => synced(() => live.setPaused(String(key), true)),
    resumeSession: (key) => synced(() => live.setPaused(String(key), false)),
    seekSession: (key, viewOffsetMs) => synced(() => live.seek(String(key), viewOffsetMs)),
    startActivity: (opts) => synced(() => activityInfo(live.startActivity(opts))),
    endActivity: (uuid) => synced(() => live.endActivity(uuid)),
    addMedia: (opts) => synced(() => live.addMedia(opts)),
    deleteMedia: (ratingKey) => synced(() => live.deleteMedia(ratingKey)),
    dropNotificationClients: () => hub.dropAll(),
    state(): SimulatorState {
      live.sync()
      const lib = world.library
      const live_items = lib.totalLive()
      return {
        now: Math.floor(world.clock.now()),
        speed: world.clock.speed,
        sessions: live.sessions.map((s) => sessionInfo(world, s)),
        activities: live.activities.map(activityInfo),
        library: {
          items: live_items,
          deletedItems: lib.size - live_items,
          byType: byTypeName(lib.countsByType()),
          sections: lib.sections.map((s) => {
            const counts: Record<string, number> = {}
            for (const t of s.types) counts[String(t)] = lib.count(s.id, t)
            return { id: s.id, title: s.title, type: s.type, counts }
          }),
        },
        historyRows: world.history.size,
        newestViewedAt: newestViewedAt(world.history),
        accounts: world.people.accounts.map((a) => ({ id: a.id, name: a.name })),
        sharedUsers: world.people.accounts.length - 2,
        notificationClients: hub.counts(),
        faults: faults.list(),
        requests: counter.totalRequests(),
      }
    },
  }
}
