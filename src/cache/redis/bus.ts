import type { Redis } from 'ioredis'
import type { InvalidationBus, InvalidationMessage } from '../bus.js'
import { messageOf } from '../entry.js'
import type { CacheLogger } from '../logger.js'
import type { CircuitBreaker } from './breaker.js'
import type { RedisClient } from './connection.js'

export interface RedisBusOptions {
  /** Publishes on the command connection, through the breaker. */
  readonly publisher: RedisClient
  readonly breaker: CircuitBreaker
  /** Opens the dedicated subscriber connection, attempt 0, 1, … (a new one after one ends). */
  readonly connectSubscriber: (attempt: number) => Redis
  readonly channel: string
  readonly logger?: CacheLogger
}

type Handler = (message: InvalidationMessage) => void

/**
 * Clears and invalidations over Redis pub/sub, on a connection of its own (a subscribed
 * connection can do nothing else). Whenever the subscription was lost, messages may have been
 * missed: once it is back, handlers get `{ type: 'clear-all' }` without an origin, so every
 * registry drops its memory layer.
 */
export class RedisInvalidationBus implements InvalidationBus {
  private readonly handlers = new Set<Handler>()
  private subscriber: Redis
  private attempt = 0
  /** Set when the subscription may have missed messages: lost, or never made on the first try. */
  private missed = false
  private isSubscribed = false
  private closed = false

  constructor(private readonly options: RedisBusOptions) {
    this.subscriber = this.connect()
  }

  /** Whether the subscription is live. */
  get subscribed(): boolean {
    return this.isSubscribed
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const { breaker, publisher, channel, logger } = this.options
    const receivers = await breaker.run(-1, () => publisher.publish(channel, JSON.stringify(message)))
    if (receivers === -1) {
      logger?.warn({ channel, type: message.type, error: breaker.lastError }, 'cache invalidation not published: Redis is unavailable; other instances keep their values until their TTL')
    }
  }

  subscribe(handler: Handler): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.closed = true
    this.handlers.clear()
    this.subscriber.disconnect()
  }

  private connect(): Redis {
    const subscriber = this.options.connectSubscriber(this.attempt++)
    subscriber.on('ready', () => void this.resubscribe(subscriber))
    subscriber.on('close', () => this.lost())
    // Every error comes with a `close` when it matters; this listener only keeps it from throwing.
    subscriber.on('error', () => {})
    subscriber.on('end', () => {
      if (this.closed || subscriber !== this.subscriber) return
      this.subscriber = this.connect()
    })
    subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.deliver(payload))
    return subscriber
  }

  private lost(): void {
    if (this.closed) return
    if (this.isSubscribed) this.options.logger?.warn({ channel: this.options.channel }, 'cache invalidation subscription lost')
    this.isSubscribed = false
    this.missed = true
  }

  private async resubscribe(subscriber: Redis): Promise<void> {
    try {
      await subscriber.subscribe(this.options.channel)
    } catch (error) {
      this.options.logger?.warn({ error: messageOf(error), channel: this.options.channel }, 'cache invalidation subscribe failed')
      // Reconnecting brings a new `ready`, and with it a new try.
      subscriber.disconnect(true)
      return
    }
    if (this.closed || subscriber !== this.subscriber) return
    this.isSubscribed = true
    if (!this.missed) return
    this.missed = false
    this.options.logger?.info({ channel: this.options.channel }, 'cache invalidation subscription back: dropping the memory layer')
    this.dispatch({ type: 'clear-all' })
  }

  private deliver(payload: Buffer): void {
    const message = parseMessage(payload)
    if (message === undefined) {
      this.options.logger?.warn({ channel: this.options.channel, bytes: payload.length }, 'cache invalidation message not understood; ignored')
      return
    }
    this.dispatch(message)
  }

  private dispatch(message: InvalidationMessage): void {
    for (const handler of this.handlers) {
      try {
        handler(message)
      } catch (error) {
        this.options.logger?.error({ error: messageOf(error), type: message.type }, 'cache invalidation handler failed')
      }
    }
  }
}

function parseMessage(payload: Buffer): InvalidationMessage | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { type, name, key, origin } = parsed as Record<string, unknown>
  if (origin !== undefined && typeof origin !== 'string') return undefined
  const from = origin === undefined ? {} : { origin }
  if (type === 'clear-all') return { type, ...from }
  if (type === 'clear' && typeof name === 'string') return { type, name, ...from }
  if (type === 'invalidate' && typeof name === 'string' && typeof key === 'string') return { type, name, key, ...from }
  return undefined
}
