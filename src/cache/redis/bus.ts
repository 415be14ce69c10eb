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
  /** The channel of `announce`/`onTopic`, on the same subscriber connection. */
  readonly topicChannel: string
  /** Tells this bus's own announcements from other instances'. */
  readonly origin: string
  readonly logger?: CacheLogger
}

type Handler = (message: InvalidationMessage) => void

/** Bus traffic since start, for metrics. */
export class BusCounts {
  /** Messages and announcements Redis took. */
  published = 0
  /** Messages and announcements not published (Redis unavailable). */
  publishFailures = 0
  /** Messages and announcements received from Redis (this instance's own included). */
  received = 0
}

/**
 * App-level news between instances: a topic name only, never data (Redis holds no secrets);
 * each instance re-reads the data from where it lives (e.g. the settings table).
 */
export interface TopicBus {
  /** Tells every other instance that `topic` changed. Never throws. */
  announce(topic: string): Promise<void>
  /**
   * `handler` runs when another instance announces `topic`, and once the subscription is back
   * after a loss (announcements may have been missed). Returns the unsubscribe function.
   */
  onTopic(topic: string, handler: () => void): () => void
}

/**
 * Clears and invalidations over Redis pub/sub, on a connection of its own (a subscribed
 * connection can do nothing else). Whenever the subscription was lost, messages may have been
 * missed: once it is back, handlers get `{ type: 'clear-all' }` without an origin, so every
 * registry drops its memory layer, and every topic handler runs. Topics (`announce`) go on a
 * second channel of the same connection, so the cache messages stay what registries exchange.
 */
export class RedisInvalidationBus implements InvalidationBus, TopicBus {
  private readonly handlers = new Set<Handler>()
  private readonly topicHandlers = new Map<string, Set<() => void>>()
  private subscriber: Redis
  private attempt = 0
  /** Set when the subscription may have missed messages: lost, or never made on the first try. */
  private missed = false
  private isSubscribed = false
  private closed = false
  /** Live counts; read, never write. */
  readonly counts = new BusCounts()

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
    this.count(receivers)
    if (receivers === -1) {
      logger?.warn(
        { channel, type: message.type, error: breaker.lastError },
        'cache invalidation not published: Redis is unavailable; other instances keep their values until their TTL',
      )
    }
  }

  subscribe(handler: Handler): () => void {
    this.handlers.add(handler)
    return () => this.handlers.delete(handler)
  }

  async announce(topic: string): Promise<void> {
    const { breaker, publisher, topicChannel, origin, logger } = this.options
    const receivers = await breaker.run(-1, () => publisher.publish(topicChannel, JSON.stringify({ topic, origin })))
    this.count(receivers)
    if (receivers === -1) {
      logger?.warn(
        { channel: topicChannel, topic, error: breaker.lastError },
        'announcement not published: Redis is unavailable; an instance whose subscription was lost too catches up once it is back, the others do not hear of it',
      )
    }
  }

  private count(receivers: number): void {
    if (receivers === -1) this.counts.publishFailures++
    else this.counts.published++
  }

  onTopic(topic: string, handler: () => void): () => void {
    let handlers = this.topicHandlers.get(topic)
    if (handlers === undefined) this.topicHandlers.set(topic, (handlers = new Set()))
    handlers.add(handler)
    return () => handlers.delete(handler)
  }

  async close(): Promise<void> {
    this.closed = true
    this.handlers.clear()
    this.topicHandlers.clear()
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
    subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      this.counts.received++
      if (channel.toString('utf8') === this.options.topicChannel) this.deliverTopic(payload)
      else this.deliver(payload)
    })
    return subscriber
  }

  private lost(): void {
    if (this.closed) return
    if (this.isSubscribed)
      this.options.logger?.warn({ channel: this.options.channel }, 'cache invalidation subscription lost')
    this.isSubscribed = false
    this.missed = true
  }

  private async resubscribe(subscriber: Redis): Promise<void> {
    try {
      await subscriber.subscribe(this.options.channel, this.options.topicChannel)
    } catch (error) {
      this.options.logger?.warn(
        { error: messageOf(error), channel: this.options.channel },
        'cache invalidation subscribe failed',
      )
      // Reconnecting brings a new `ready`, and with it a new try.
      subscriber.disconnect(true)
      return
    }
    if (this.closed || subscriber !== this.subscriber) return
    this.isSubscribed = true
    if (!this.missed) return
    this.missed = false
    this.options.logger?.info(
      { channel: this.options.channel },
      'cache invalidation subscription back: dropping the memory layer',
    )
    this.dispatch({ type: 'clear-all' })
    for (const topic of this.topicHandlers.keys()) this.dispatchTopic(topic)
  }

  private deliverTopic(payload: Buffer): void {
    const announcement = parseAnnouncement(payload)
    if (announcement === undefined) {
      this.options.logger?.warn(
        { channel: this.options.topicChannel, bytes: payload.length },
        'announcement not understood; ignored',
      )
      return
    }
    if (announcement.origin !== this.options.origin) this.dispatchTopic(announcement.topic)
  }

  private dispatchTopic(topic: string): void {
    for (const handler of this.topicHandlers.get(topic) ?? []) {
      try {
        handler()
      } catch (error) {
        this.options.logger?.error({ error: messageOf(error), topic }, 'announcement handler failed')
      }
    }
  }

  private deliver(payload: Buffer): void {
    const message = parseMessage(payload)
    if (message === undefined) {
      this.options.logger?.warn(
        { channel: this.options.channel, bytes: payload.length },
        'cache invalidation message not understood; ignored',
      )
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

/** A JSON object payload, or undefined for anything else: a bad message is dropped, never thrown. */
function parseObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'))
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function parseMessage(payload: Buffer): InvalidationMessage | undefined {
  const parsed = parseObject(payload)
  if (parsed === undefined) return undefined
  const { type, name, key, scope, origin } = parsed
  if (origin !== undefined && typeof origin !== 'string') return undefined
  const from = origin === undefined ? {} : { origin }
  if (type === 'clear-all') return { type, ...from }
  if (type === 'clear' && typeof name === 'string') return { type, name, ...from }
  if (type === 'invalidate' && typeof name === 'string' && typeof key === 'string') return { type, name, key, ...from }
  if (type === 'clear-scope' && typeof scope === 'string') return { type, scope, ...from }
  return undefined
}

function parseAnnouncement(payload: Buffer): { topic: string; origin: string } | undefined {
  const parsed = parseObject(payload)
  if (parsed === undefined) return undefined
  const { topic, origin } = parsed
  return typeof topic === 'string' && typeof origin === 'string' ? { topic, origin } : undefined
}
