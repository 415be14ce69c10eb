import type { SimClock } from './clock.js'
import type { HistoryStore } from './history.js'
import type { Library } from './library/store.js'
import type { ResolvedOptions } from './options.js'
import type { People } from './people.js'

/** Everything generated from the seed, shared by the endpoints and the live state. */
export interface World {
  opts: ResolvedOptions
  machineIdentifier: string
  version: string
  library: Library
  history: HistoryStore
  people: People
  clock: SimClock
}

export const PMS_VERSION = '1.41.3.9314-a0bfb8370'
