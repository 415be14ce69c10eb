import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { messageOf } from '../entry.js'
import { createByteMap, type ByteMap, type EvictionPolicy } from '../eviction/index.js'
import type { CacheLogger } from '../logger.js'
import { decodeBlob, encodeBlob, type BlobEntry } from './blob-entry.js'

export interface DiskTierOptions {
  readonly dir: string
  readonly maxBytes: number
  readonly eviction: EvictionPolicy
  readonly logger?: CacheLogger
  /** What the one warning names. */
  readonly name: string
}

const SUFFIX = '.blob'
const TEMP_PREFIX = '.tmp-'
/** Files looked at when the index is rebuilt at start: bounds the work (a 512 MiB folder of posters holds ~5,000). */
export const MAX_INDEXED_FILES = 200_000
const STAT_CONCURRENCY = 16

/**
 * The second tier of a blob cache: one file per key in one folder, bounded by bytes with the
 * same eviction policies as memory. The index (key → bytes) lives in memory and is rebuilt from
 * the folder at `open` (names and sizes only, oldest first; leftover temp files removed).
 *
 * A file is written to a temp name and renamed into place, so a reader never sees half of one; a
 * file that is torn anyway (cut short, not ours, unreadable) is a miss and is removed. A folder
 * that cannot be created or written (read-only, full disk, no permission) turns the tier off:
 * one warning, then memory only until the process restarts.
 */
export class DiskTier {
  private readonly index: ByteMap<string, number>
  private disabledBy: string | undefined
  private readonly pending = new Set<Promise<unknown>>()

  constructor(private readonly options: DiskTierOptions) {
    this.index = createByteMap<string, number>(options.eviction, {
      maxBytes: options.maxBytes,
      sizeOf: (bytes) => bytes,
      onRemove: (_bytes, key, reason) => {
        if (reason === 'evict') this.track(unlink(this.fileOf(key)).catch(() => undefined))
      },
    })
  }

  /** False once the folder proved unusable. */
  get enabled(): boolean {
    return this.disabledBy === undefined
  }

  /** Why the tier is off, or null. */
  get disabledReason(): string | null {
    return this.disabledBy ?? null
  }

  get entries(): number {
    return this.index.size
  }

  get bytes(): number {
    return this.index.calculatedSize
  }

  has(key: string): boolean {
    return this.enabled && this.index.has(key)
  }

  /** Creates the folder and rebuilds the index from it. Never throws: trouble turns the tier off. */
  async open(): Promise<void> {
    const { dir } = this.options
    let names: string[]
    try {
      await mkdir(dir, { recursive: true })
      names = await readdir(dir)
    } catch (error) {
      this.disable(error)
      return
    }
    const temps = names.filter((name) => name.startsWith(TEMP_PREFIX))
    await Promise.all(temps.map((name) => unlink(path.join(dir, name)).catch(() => undefined)))
    const blobs = names.filter((name) => name.endsWith(SUFFIX)).slice(0, MAX_INDEXED_FILES)
    const found: Array<{ key: string; bytes: number; mtimeMs: number }> = []
    for (let i = 0; i < blobs.length; i += STAT_CONCURRENCY) {
      const batch = blobs.slice(i, i + STAT_CONCURRENCY)
      const stats = await Promise.all(batch.map((name) => stat(path.join(dir, name)).catch(() => undefined)))
      stats.forEach((s, j) => {
        if (s?.isFile()) found.push({ key: batch[j]!.slice(0, -SUFFIX.length), bytes: s.size, mtimeMs: s.mtimeMs })
      })
    }
    // Oldest first, so that the most recently written end up the most recently used.
    found.sort((a, b) => a.mtimeMs - b.mtimeMs)
    for (const { key, bytes } of found) this.index.set(key, bytes)
  }

  /** The entry, or undefined (not held, torn, unreadable). Counts as an access for eviction. */
  async get(key: string): Promise<BlobEntry | undefined> {
    if (!this.enabled || this.index.get(key) === undefined) return undefined
    let entry: BlobEntry | undefined
    try {
      entry = decodeBlob(await readFile(this.fileOf(key)))
    } catch {
      entry = undefined
    }
    if (entry === undefined) {
      this.index.delete(key)
      this.track(unlink(this.fileOf(key)).catch(() => undefined))
    }
    return entry
  }

  /** Writes the entry (temp file, then rename); resolves when it is in place or the tier turned off. */
  set(key: string, entry: BlobEntry): Promise<void> {
    if (!this.enabled) return Promise.resolve()
    const bytes = encodeBlob(entry)
    if (bytes.length > this.options.maxBytes) return Promise.resolve()
    return this.track(this.write(key, bytes))
  }

  private async write(key: string, bytes: Buffer): Promise<void> {
    const file = this.fileOf(key)
    const temp = path.join(this.options.dir, `${TEMP_PREFIX}${key}-${randomBytes(6).toString('hex')}`)
    try {
      await writeFile(temp, bytes)
      await rename(temp, file)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      this.disable(error)
      return
    }
    if (this.enabled) this.index.set(key, bytes.length)
  }

  delete(key: string): Promise<void> {
    if (!this.index.delete(key)) return Promise.resolve()
    return this.track(unlink(this.fileOf(key)).catch(() => undefined))
  }

  /** Removes every file of the tier (and any temp file); the folder stays. */
  async clear(): Promise<void> {
    await this.settled()
    this.index.clear()
    let names: string[]
    try {
      names = await readdir(this.options.dir)
    } catch {
      return
    }
    await Promise.all(
      names
        .filter((name) => name.endsWith(SUFFIX) || name.startsWith(TEMP_PREFIX))
        .map((name) => rm(path.join(this.options.dir, name), { force: true }).catch(() => undefined)),
    )
  }

  /** Waits for the writes and removals started so far. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  private fileOf(key: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error(`disk tier key "${key}" is not a plain file name`)
    return path.join(this.options.dir, key + SUFFIX)
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work)
    void work.finally(() => this.pending.delete(work))
    return work
  }

  private disable(error: unknown): void {
    if (this.disabledBy !== undefined) return
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    this.disabledBy = code ?? messageOf(error)
    this.index.clear()
    this.options.logger?.warn(
      { cache: this.options.name, dir: this.options.dir, error: messageOf(error) },
      `the ${this.options.name} disk folder is not usable (${this.disabledBy}); keeping these entries in memory only`,
    )
  }
}
