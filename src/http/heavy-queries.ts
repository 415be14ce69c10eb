import { ThrottledError } from '../features/throttle.js'

/** What a client refused here is told to wait: about one page load. */
export const HEAVY_RETRY_AFTER_MS = 1_000

/**
 * Requests whose miss costs the service real work (a watch-history page of thousands of rows),
 * in progress: at most `perClient` for one client (`clientOf`) and `max` for all together
 * (HEAVY_QUERIES_PER_CLIENT, HEAVY_QUERIES_MAX). Past either a request is refused at once, a 429
 * with `Retry-After`, so that eight clients paging the history take turns rather than queueing
 * minutes of work behind each other.
 */
export class HeavyQueries {
  private readonly byClient = new Map<string, number>()
  private total = 0

  constructor(
    readonly perClient: number,
    readonly max: number,
  ) {}

  /** In progress now, for all clients. */
  get inProgress(): number {
    return this.total
  }

  /** Takes a slot for `client` or throws a ThrottledError saying which bound; call the result when done. */
  enter(client: string, what: string): () => void {
    const mine = this.byClient.get(client) ?? 0
    if (mine >= this.perClient)
      throw new ThrottledError(
        `Too many requests for ${what} loading at once from ${client}: ${mine} in progress, at most ${this.perClient} per client (HEAVY_QUERIES_PER_CLIENT)`,
        HEAVY_RETRY_AFTER_MS,
      )
    if (this.total >= this.max)
      throw new ThrottledError(
        `Too many requests for ${what} loading at once: ${this.total} in progress, at most ${this.max} for all clients (HEAVY_QUERIES_MAX)`,
        HEAVY_RETRY_AFTER_MS,
      )
    this.byClient.set(client, mine + 1)
    this.total++
    let done = false
    return () => {
      if (done) return
      done = true
      this.total--
      const left = (this.byClient.get(client) ?? 1) - 1
      if (left === 0) this.byClient.delete(client)
      else this.byClient.set(client, left)
    }
  }
}
