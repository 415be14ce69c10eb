// Parses large reply bodies on one worker thread, so that 13 MB of XML (seconds of
// fast-xml-parser) never stops the event loop; small bodies parse inline, where a worker round
// trip would cost more than the parse. One worker, one body at a time, the rest queued; a body
// whose request is aborted (deadline, caller) terminates the worker mid-parse, and the next
// body starts a fresh one. Idle, the worker does not keep the process alive.
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../worker-thread.js'
import { decodeBody, formatOf } from './decode.js'
import { BodyAssembler, type BodyPart } from './parse-slices.js'

export type ToWorker =
  { type: 'parse'; id: number; bytes: Uint8Array; contentType: string } | { type: 'next'; id: number }
export type FromWorker = { id: number; part: BodyPart } | { id: number; done: true } | { id: number; problem: string }

export type Decoded = { value: unknown } | { problem: string }

/**
 * Bodies up to these sizes parse inline (docs/reliability.md): 32 KiB of XML takes ~15 ms on the
 * loaded 2-core test machine (fast-xml-parser ran at ~2 MB/s there); 1 MiB of JSON ~10 ms on a
 * quiet one, ~50 ms under load (a 473 KB page of 1,000 history rows parsed in 22 ms at load 20),
 * so that every history page parses inline as before.
 */
export const INLINE_MAX_BYTES = { xml: 32 * 1024, json: 1024 * 1024 } as const

interface Job {
  readonly id: number
  readonly bytes: Buffer
  readonly contentType: string
  readonly signal: AbortSignal | undefined
  readonly resolve: (decoded: Decoded) => void
  readonly reject: (error: unknown) => void
  readonly assembler: BodyAssembler
  readonly onAbort: () => void
}

export class ParsePool {
  private worker: Worker | undefined
  private active: Job | undefined
  private readonly queue: Job[] = []
  private nextId = 1
  /** Workers started so far (a terminated one is replaced): for tests and stats. */
  started = 0

  /** Decodes `bytes` (the reply body) inline when small, else on the worker. */
  decode(bytes: Buffer, contentType: string, signal?: AbortSignal): Decoded | Promise<Decoded> {
    const format = formatOf(contentType, bytes.toString('latin1', 0, Math.min(64, bytes.length)))
    if (bytes.length <= INLINE_MAX_BYTES[format]) return decodeBody(bytes.toString('utf8'), contentType)
    return this.decodeInWorker(bytes, contentType, signal)
  }

  decodeInWorker(bytes: Buffer, contentType: string, signal?: AbortSignal): Promise<Decoded> {
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<Decoded>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        bytes,
        contentType,
        signal,
        resolve,
        reject,
        assembler: new BodyAssembler(),
        onAbort: () => this.abandon(job, signal?.reason),
      }
      signal?.addEventListener('abort', job.onAbort, { once: true })
      this.queue.push(job)
      this.startNext()
    })
  }

  /** Terminates the worker; queued and running bodies fail. */
  async close(): Promise<void> {
    const error = new Error('the parse pool was closed')
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(error))
    if (this.active) this.settle(this.active, () => this.active!.reject(error))
    this.active = undefined
    await this.stopWorker()
  }

  private startNext(): void {
    if (this.active !== undefined) return
    const job = this.queue.shift()
    if (job === undefined) {
      this.worker?.unref()
      return
    }
    this.active = job
    const worker = this.ensureWorker()
    worker.ref()
    // A body of its own ArrayBuffer moves to the worker without a copy.
    const own = job.bytes.byteOffset === 0 && job.bytes.byteLength === job.bytes.buffer.byteLength
    const bytes = own ? job.bytes : Uint8Array.prototype.slice.call(job.bytes)
    worker.postMessage({ type: 'parse', id: job.id, bytes, contentType: job.contentType } satisfies ToWorker, [
      bytes.buffer as ArrayBuffer,
    ])
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker
    const worker = startWorker(import.meta.url, 'parse-worker')
    this.started++
    worker.on('message', (message: FromWorker) => this.onMessage(worker, message))
    worker.on('error', (error) => this.onWorkerGone(worker, error))
    worker.on('exit', (code) => this.onWorkerGone(worker, new Error(`the parse worker exited with code ${code}`)))
    this.worker = worker
    return worker
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    const job = this.active
    if (worker !== this.worker || job === undefined || job.id !== message.id) return
    if ('problem' in message) return this.finish(job, () => job.resolve({ problem: message.problem }))
    if ('done' in message) return this.finish(job, () => job.resolve({ value: job.assembler.result() }))
    try {
      job.assembler.add(message.part)
    } catch (error) {
      return this.finish(job, () =>
        job.resolve({ problem: `the parse worker sent a broken part (${(error as Error).message})` }),
      )
    }
    worker.postMessage({ type: 'next', id: job.id } satisfies ToWorker)
  }

  private onWorkerGone(worker: Worker, error: Error): void {
    if (worker !== this.worker) return
    this.worker = undefined
    const job = this.active
    if (job !== undefined)
      this.finish(job, () => job.resolve({ problem: `the parse worker failed (${error.message})` }))
  }

  private finish(job: Job, settle: () => void): void {
    this.settle(job, settle)
    this.active = undefined
    this.startNext()
  }

  private settle(job: Job, settle: () => void): void {
    job.signal?.removeEventListener('abort', job.onAbort)
    settle()
  }

  private abandon(job: Job, reason: unknown): void {
    const queued = this.queue.indexOf(job)
    if (queued !== -1) {
      this.queue.splice(queued, 1)
      this.settle(job, () => job.reject(reason))
      return
    }
    if (this.active !== job) return
    // The worker may be deep in a parse that no one waits for any more: stop it.
    void this.stopWorker()
    this.finish(job, () => job.reject(reason))
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    if (worker !== undefined) await worker.terminate()
  }
}

/** The process's one parse worker pool. */
export const parsePool = new ParsePool()
