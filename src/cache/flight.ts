/**
 * Cross-instance single flight. Each instance already runs one load per key; the coordinator
 * decides which instance of the cluster runs it. `load` loads the value and writes it to the
 * shared layer before it resolves. `run` resolves with load's result on the instance that ran
 * it, or with `undefined` on an instance that waited for another instance's load: the cache
 * then takes the value from the shared layer (and loads itself if it is not there).
 */
export interface FlightCoordinator {
  run<T>(key: string, load: () => Promise<T>): Promise<T | undefined>
}

/** One instance: every load runs here. */
export const localFlights: FlightCoordinator = {
  run: (_key, load) => load(),
}

/**
 * A coordinator for several registries of one process (a stand-in for a Redis lease): while one
 * registry loads a key, the others wait for it and then read the shared layer.
 */
export class MemoryFlightCoordinator implements FlightCoordinator {
  private readonly running = new Map<string, Promise<unknown>>()

  async run<T>(key: string, load: () => Promise<T>): Promise<T | undefined> {
    const other = this.running.get(key)
    if (other !== undefined) {
      await other.then(noop, noop)
      return undefined
    }
    const mine = load()
    this.running.set(key, mine)
    try {
      return await mine
    } finally {
      this.running.delete(key)
    }
  }
}

function noop(): void {}
