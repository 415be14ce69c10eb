import { it } from 'vitest'
import { startPlexTestApp } from '../support/history-stats-harness.js'
it('dbg', async () => {
  const t = await startPlexTestApp({ env: { CACHE_WARM_IDLE: '1' }, sim: { historyRows: 300 } })
  const post = (p: string) => fetch(`${t.url}${p}`, { method: 'POST' })
  await post('/api/plex/cache/warm')
  await t.cacheClock.advance(60_000)
  await t.sim.control.setFault({ mode: 'outage' })
  await post('/api/plex/cache/warm')
  await t.sim.control.clearFaults()
  const started = Date.now()
  const jobs = t.runtime.jobs
  for (const job of jobs) { const s = Date.now(); await Promise.race([job.stop(), new Promise(r => setTimeout(r, 5000))]); console.log('stop', job.name, Date.now() - s) }
  let s = Date.now(); await Promise.race([t.app.close(), new Promise(r => setTimeout(r, 5000))]); console.log('app close', Date.now() - s)
  s = Date.now(); await Promise.race([t.runtime.close(), new Promise(r => setTimeout(r, 5000))]); console.log('runtime close', Date.now() - s)
  s = Date.now(); await Promise.race([t.sim.close(), new Promise(r => setTimeout(r, 5000))]); console.log('sim close', Date.now() - s, Date.now() - started)
}, 60000)
