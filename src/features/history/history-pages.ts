// Watch-history pages off the event loop. A page of 5,000 rows is ~2.5 MB of JSON: its query,
// shaping, JSON.stringify and ETag took 100-250 ms of the event loop on the 2-core test machine,
// during which no other request was answered. Here they run on one worker thread with its own
// read-only connection to the database (SQLite in WAL mode lets it read while the service
// writes), and the main thread receives the finished JSON. An in-memory SQLite database cannot
// be opened twice: its pages are built inline.
import type { Worker } from 'node:worker_threads'
import { Serialized } from '../../cache/index.js'
import {
  DatabaseUnavailableError,
  type DatabaseSettings,
  type DbSource,
  type WatchHistoryQuery,
  type WatchHistoryRepo,
} from '../../db/index.js'
import { startWorker } from '../../worker-thread.js'
import { historyPage, type WatchHistoryRow } from './watch-history-rows.js'

export interface ToHistoryWorker {
  readonly id: number
  readonly query: WatchHistoryQuery
  readonly plexBaseUrl: string | undefined
}

export type FromHistoryWorker =
  | { readonly id: number; readonly json: string; readonly etag: string; readonly bytes: number }
  | { readonly id: number; readonly problem: string; readonly unavailable: boolean }

export interface HistoryPagesOptions {
  /** The service's database: a page is refused as it would be while it is not ready. */
  readonly source: DbSource
  /** Its repository, for pages built inline. */
  readonly repo: Pick<WatchHistoryRepo, 'list'>
  /** Where the worker connects: the same database. */
  readonly settings: DatabaseSettings
}

interface Pending {
  readonly resolve: (page: Serialized<WatchHistoryRow[]>) => void
  readonly reject: (error: unknown) => void
  readonly signal: AbortSignal | undefined
  readonly onAbort: () => void
}

export class HistoryPages {
  private worker: Worker | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private closed = false
  /** Whether pages are built on the worker (false: inline, for an in-memory database). */
  readonly offLoop: boolean

  constructor(private readonly options: HistoryPagesOptions) {
    const { settings } = options
    this.offLoop = settings.url !== null || settings.path !== ':memory:'
  }

  /** The page `query` asks for, serialized; thumbs link to `plexBaseUrl` (none without it). */
  page(
    query: WatchHistoryQuery,
    plexBaseUrl: string | undefined,
    signal?: AbortSignal,
  ): Promise<Serialized<WatchHistoryRow[]>> {
    // Throws DatabaseUnavailableError while the database is not ready, as any repository call.
    void this.options.source.db
    if (!this.offLoop) return historyPage(this.options.repo, query, plexBaseUrl)
    if (this.closed)
      return Promise.reject(new DatabaseUnavailableError('The database is closed: the service is shutting down'))
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      const onAbort = () => this.settle(id, (job) => job.reject(signal!.reason))
      this.pending.set(id, { resolve, reject, signal, onAbort })
      signal?.addEventListener('abort', onAbort, { once: true })
      const worker = this.ensureWorker()
      worker.ref()
      worker.postMessage({ id, query, plexBaseUrl } satisfies ToHistoryWorker)
    })
  }

  /** Stops the worker (and its database connection); pages in flight fail. */
  async close(): Promise<void> {
    this.closed = true
    this.failAll(new DatabaseUnavailableError('The database is closed: the service is shutting down'))
    const worker = this.worker
    this.worker = undefined
    if (worker !== undefined) await worker.terminate()
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = startWorker(import.meta.url, 'history-worker', { workerData: { settings: this.options.settings } })
    worker.on('message', (message: FromHistoryWorker) => this.onMessage(message))
    worker.on('error', (error) => this.onWorkerGone(worker, error))
    worker.on('exit', (code) => this.onWorkerGone(worker, new Error(`the history worker exited with code ${code}`)))
    this.worker = worker
    return worker
  }

  private onMessage(message: FromHistoryWorker): void {
    this.settle(message.id, (job) => {
      if ('problem' in message) {
        job.reject(message.unavailable ? new DatabaseUnavailableError(message.problem) : new Error(message.problem))
      } else {
        job.resolve(new Serialized(message.json, message.etag, message.bytes))
      }
    })
  }

  private settle(id: number, settle: (job: Pending) => void): void {
    const job = this.pending.get(id)
    if (job === undefined) return
    this.pending.delete(id)
    job.signal?.removeEventListener('abort', job.onAbort)
    settle(job)
    // Idle, the worker does not keep the process alive.
    if (this.pending.size === 0) this.worker?.unref()
  }

  private onWorkerGone(worker: Worker, error: Error): void {
    if (worker !== this.worker) return
    this.worker = undefined
    this.failAll(new Error(`the history worker failed (${error.message})`))
  }

  private failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, (job) => job.reject(error))
  }
}
