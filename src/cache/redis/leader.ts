import { randomUUID } from 'node:crypto'
import type { Clock, TimerHandle } from '../clock.js'
import { messageOf } from '../entry.js'
import type { CacheLogger } from '../logger.js'
import type { RedisClient } from './connection.js'
import { CLAIM_OR_RENEW, RELEASE_IF_OWNER } from './scripts.js'

/** Which instance runs the background jobs. */
export interface Leadership {
  readonly isLeader: boolean
  /** Settles once the first claim has been tried: from then on `isLeader` says whether this instance leads. */
  readonly decided: Promise<void>
  /** Called with the new state on every change; returns the unsubscribe function. */
  onChange(listener: (leading: boolean) => void): () => void
  /** Stops taking part; gives the lease up at once when held. */
  close(): Promise<void>
}

export interface LeaderElectionOptions {
  readonly redis: RedisClient
  /** The lease key, e.g. `komandorr:leader:jobs`. */
  readonly key: string
  /** A dead leader is replaced within this. The leader renews every third of it. */
  readonly leaseMs: number
  readonly clock: Clock
  /** Shown as the lease's value; default a random UUID. */
  readonly id?: string
  /**
   * When Redis cannot be reached for a whole lease, lead anyway (every instance then runs its
   * jobs, as a single instance would) rather than let no one run them. Default true.
   */
  readonly leadWithoutRedis?: boolean
  readonly logger?: CacheLogger
}

interface LeaseScripts {
  claimOrRenew(key: string, id: string, leaseMs: number): Promise<number>
  releaseIfOwner(key: string, id: string): Promise<number>
}

/**
 * A leader lease in Redis: every third of the lease each instance runs one Lua step, which
 * renews the lease when it holds it and takes it when it is free. When the leader dies its
 * lease runs out within one lease of its last renewal and the next step of another instance
 * takes it: a takeover within one lease of the death.
 */
export function createLeaderElection(options: LeaderElectionOptions): Leadership {
  return new LeaderElection(options)
}

/** Without Redis the one instance leads. */
export const soloLeadership: Leadership = Object.freeze({
  isLeader: true,
  decided: Promise.resolve(),
  onChange: () => () => {},
  close: async () => {},
})

class LeaderElection implements Leadership {
  readonly id: string
  private leading = false
  private readonly listeners = new Set<(leading: boolean) => void>()
  private readonly redis: RedisClient & LeaseScripts
  private readonly leadWithoutRedis: boolean
  /** When the last step that reached Redis was sent. */
  private lastContact: number
  private timer: TimerHandle | undefined
  private stepping = false
  private closed = false
  private markDecided!: () => void
  readonly decided = new Promise<void>((resolve) => {
    this.markDecided = resolve
  })
  /** A fresh connection steps at once instead of at the next third of the lease. */
  private readonly stepNow = (): void => {
    if (this.closed || this.stepping) return
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    void this.step()
  }

  constructor(private readonly options: LeaderElectionOptions) {
    this.id = options.id ?? randomUUID()
    this.leadWithoutRedis = options.leadWithoutRedis ?? true
    options.redis.defineCommand('claimOrRenew', { numberOfKeys: 1, lua: CLAIM_OR_RENEW })
    options.redis.defineCommand('releaseIfOwner', { numberOfKeys: 1, lua: RELEASE_IF_OWNER })
    this.redis = options.redis as RedisClient & LeaseScripts
    this.lastContact = options.clock.now()
    options.redis.on('ready', this.stepNow)
    this.timer = options.clock.setTimer(this.stepNow, 0)
  }

  get isLeader(): boolean {
    return this.leading
  }

  onChange(listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.options.redis.off('ready', this.stepNow)
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    const wasLeading = this.leading
    this.set(false)
    this.markDecided()
    this.listeners.clear()
    if (wasLeading) await this.redis.releaseIfOwner(this.options.key, this.id).catch(() => 0)
  }

  private async step(): Promise<void> {
    const { clock, key, leaseMs } = this.options
    const sentAt = clock.now()
    this.stepping = true
    try {
      const holds = await this.redis.claimOrRenew(key, this.id, leaseMs)
      this.lastContact = sentAt
      this.set(holds === 1)
    } catch (error) {
      if (clock.now() - this.lastContact >= leaseMs) {
        // The lease may have run out: someone else may hold it by now, or no one can.
        if (this.leading !== this.leadWithoutRedis) {
          this.options.logger?.warn(
            { key, error: messageOf(error), leading: this.leadWithoutRedis },
            this.leadWithoutRedis
              ? 'Redis unreachable for a whole lease: this instance runs the background jobs'
              : 'Redis unreachable: leadership lapsed',
          )
        }
        this.set(this.leadWithoutRedis)
      }
    } finally {
      this.stepping = false
      this.markDecided()
    }
    if (!this.closed) this.timer = clock.setTimer(() => void this.step(), leaseMs / 3)
  }

  private set(leading: boolean): void {
    if (this.leading === leading || (this.closed && leading)) return
    this.leading = leading
    this.options.logger?.info(
      { key: this.options.key, instance: this.id, leading },
      leading ? 'leading the background jobs' : 'no longer leading the background jobs',
    )
    for (const listener of this.listeners) listener(leading)
  }
}
