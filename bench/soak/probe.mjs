/* global process */
// Loaded with `node --expose-gc --import` into a process the soak bench measures (the service or
// the bare Fastify baseline), never by the service itself. On SIGUSR2 it prints one line:
// `SOAK-PROBE {"rss":…}` with the RSS (read before the collection), the heap after a full GC, and
// the event-loop delay p99 and max since the previous probe.
import { monitorEventLoopDelay } from 'node:perf_hooks'

const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()
process.on('SIGUSR2', () => {
  const rss = process.memoryUsage.rss()
  globalThis.gc?.()
  const m = process.memoryUsage()
  // The histogram counts from its 10 ms sampling interval: what lies beyond it is the lag.
  const lag = (ns) => Math.max(0, ns / 1e6 - 10)
  const probe = {
    rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    gc: globalThis.gc !== undefined,
    loopP99Ms: lag(delay.percentile(99)),
    loopMaxMs: lag(delay.max),
  }
  delay.reset()
  process.stdout.write(`SOAK-PROBE ${JSON.stringify(probe)}\n`)
})
