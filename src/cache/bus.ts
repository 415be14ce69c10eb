export type InvalidationMessage =
  | { readonly type: 'clear-all'; readonly origin?: string }
  | { readonly type: 'clear'; readonly name: string; readonly origin?: string }
  | { readonly type: 'invalidate'; readonly name: string; readonly key: string; readonly origin?: string }
  /** Drops every key and view of one scope (its hashed id), in every cache. */
  | { readonly type: 'clear-scope'; readonly scope: string; readonly origin?: string }

/**
 * Carries clears and invalidations to every instance. A registry publishes its own clears
 * (with its `origin`) and applies what it receives to its memory layer only, ignoring its own
 * messages and never republishing. A bus that may have lost messages (a dropped Redis
 * subscription) delivers `{ type: 'clear-all' }` without an origin once it is back.
 * Neither method throws.
 */
export interface InvalidationBus {
  publish(message: InvalidationMessage): Promise<void> | void
  /** Returns the unsubscribe function. */
  subscribe(handler: (message: InvalidationMessage) => void): () => void
}

/** One instance: nothing to tell anyone. */
export const noopBus: InvalidationBus = {
  publish: () => {},
  subscribe: () => () => {},
}

/** A bus for several registries of one process; delivers asynchronously, like a network. */
export class LocalBus implements InvalidationBus {
  private readonly handlers = new Set<(message: InvalidationMessage) => void>()

  publish(message: InvalidationMessage): void {
    for (const handler of this.handlers) queueMicrotask(() => handler(message))
  }

  subscribe(handler: (message: InvalidationMessage) => void): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }
}
