/** Requests per endpoint pattern, so tests can assert how often the service reached Plex. */
export class RequestCounter {
  private readonly counts = new Map<string, number>()
  private total = 0

  increment(endpoint: string): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1)
    this.total++
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts)
  }

  totalRequests(): number {
    return this.total
  }

  reset(): void {
    this.counts.clear()
    this.total = 0
  }
}
