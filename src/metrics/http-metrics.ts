import type { FastifyInstance, onResponseHookHandler } from 'fastify'
import type { Registry } from 'prom-client'
import { registerSnapshot, type Sample } from './snapshot-metric.js'

/** Seconds; a hit answers in well under a millisecond, a cold Plex load in seconds. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/**
 * One histogram series: plain bucket counts bumped by the request that ends. prom-client's own
 * `observe` checks and hashes the labels on every call (about a microsecond, a few percent of a
 * cache hit); these cells cost one loop over 14 bounds, and are rendered only at scrape time.
 */
class Cells {
  readonly buckets = new Float64Array(HTTP_BUCKETS.length)
  sum = 0
  count = 0

  observe(seconds: number): void {
    this.sum += seconds
    this.count++
    for (let i = 0; i < HTTP_BUCKETS.length; i++) {
      if (seconds <= HTTP_BUCKETS[i]!) {
        this.buckets[i]!++
        return
      }
    }
  }
}

/**
 * `http_request_duration_seconds{method,route,status_class}`, `route` being the pattern a route
 * was registered with (`/api/services/:id`), never the URL asked for. Each route gets its own
 * onResponse hook with its cells bound when the route is added: a request costs no label lookup.
 * The fast hit path (http/fast-hits.ts) answers in front of Fastify and takes the same cells
 * through `cellsFor`, so a hit is one series whichever path answered it.
 */
export class HttpMetrics {
  private readonly series: Array<{ labels: Record<string, string>; cells: Cells }> = []
  private readonly byRoute = new Map<string, readonly Cells[]>()

  constructor(registry: Registry) {
    const name = 'http_request_duration_seconds'
    registerSnapshot(registry, {
      name,
      help: 'Duration of HTTP requests by method, route pattern and status class.',
      type: 'histogram',
      read: () => {
        const samples: Sample[] = []
        for (const { labels, cells } of this.series) {
          if (cells.count === 0) continue
          let cumulative = 0
          HTTP_BUCKETS.forEach((bound, i) => {
            cumulative += cells.buckets[i]!
            samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(bound) }, value: cumulative })
          })
          samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cells.count })
          samples.push({ metricName: `${name}_sum`, labels, value: cells.sum })
          samples.push({ metricName: `${name}_count`, labels, value: cells.count })
        }
        return samples
      },
    })
  }

  /** The series of one route and status code, made on first use; `observe` takes seconds. */
  cellsFor(method: string, route: string, statusCode: number): { observe(seconds: number): void } {
    return this.classesOf(method, route)[statusClassIndex(statusCode)]!
  }

  /** Times every route added from now on; install before the routes. Unmatched paths are not timed. */
  install(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method)
      const byClass = this.classesOf(method, route.url)
      const observe: onResponseHookHandler = (_request, reply, done) => {
        byClass[statusClassIndex(reply.statusCode)]!.observe(reply.elapsedTime / 1000)
        done()
      }
      const existing = route.onResponse
      route.onResponse =
        existing === undefined ? [observe] : [...(Array.isArray(existing) ? existing : [existing]), observe]
    })
  }

  private classesOf(method: string, route: string): readonly Cells[] {
    const key = `${method} ${route}`
    let byClass = this.byRoute.get(key)
    if (byClass === undefined) {
      byClass = STATUS_CLASSES.map((statusClass) => {
        const cells = new Cells()
        this.series.push({ labels: { method, route, status_class: statusClass }, cells })
        return cells
      })
      this.byRoute.set(key, byClass)
    }
    return byClass
  }
}

function statusClassIndex(statusCode: number): number {
  return Math.min(4, Math.max(0, Math.floor(statusCode / 100) - 1))
}
