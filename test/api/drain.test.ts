import { Agent, request as httpRequest } from 'node:http'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { installGracefulClose } from '../../src/http/drain.js'
import { startSimulator } from '../../sim/index.js'
import { PLEX_TOKEN, startService } from '../support/api-harness.js'
import { eventually, sleep } from '../support/eventually.js'

interface Outcome {
  status?: number
  connection?: string
  error?: string
  reusedSocket: boolean
}

function get(url: string, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode, connection: res.headers.connection, reusedSocket: req.reusedSocket }),
      )
    })
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message, reusedSocket: req.reusedSocket }),
    )
    req.end()
  })
}

/** `clients` loops, each sending one request after another on a keep-alive agent, until the server refuses. */
function hammer(url: string, clients: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  const outcomes: Outcome[] = []
  let stopped = false
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      const outcome = await get(url, agent)
      outcomes.push(outcome)
      if (outcome.error === 'ECONNREFUSED') return
    }
  })
  return {
    outcomes,
    agent,
    async stop() {
      stopped = true
      await Promise.all(loops)
      agent.destroy()
    },
  }
}

describe('stopping under keep-alive load', () => {
  it('answers every request that reached it, resets no keep-alive connection, and closes within the deadline', async () => {
    let releaseSlow = () => {}
    let slowIn = false
    const t = await startService({
      env: {},
      runtime: {
        beforeListen: (app) =>
          app.get('/slow', async () => {
            slowIn = true
            await new Promise<void>((resolve) => (releaseSlow = resolve))
            return { slow: true }
          }),
      },
    })
    const load = hammer(`${t.url}/api/health`, 12)
    // Idle keep-alive connections too: one request each, then they sit in their agent's pool.
    const idleAgent = new Agent({ keepAlive: true, maxSockets: 4 })
    await Promise.all(Array.from({ length: 4 }, () => get(`${t.url}/api/health`, idleAgent)))
    const slowAgent = new Agent({ keepAlive: true })
    const slow = get(`${t.url}/slow`, slowAgent)
    const idleEnds: string[] = []
    for (const socket of Object.values(idleAgent.freeSockets).flat()) {
      socket!.on('end', () => idleEnds.push('end'))
      socket!.on('error', (error: NodeJS.ErrnoException) => idleEnds.push(error.code ?? 'error'))
    }
    await sleep(300) // every client has its connection: one accepted during the close is the kernel's reset, not the drain's
    await eventually('the slow request is in', () => slowIn, 5_000)
    // The load is going: counted rather than timed, since a loaded machine stretches any fixed wait.
    await eventually('the load is going (50 answers)', () => load.outcomes.length > 50, 5_000)
    const beforeClose = load.outcomes.length

    const started = performance.now()
    const closing = t.app.close()
    await sleep(150)
    releaseSlow()
    await closing
    const closeMs = performance.now() - started
    await load.stop()
    const slowOutcome = await slow
    await eventually('the idle connections to close', () => idleEnds.length === 4)
    idleAgent.destroy()
    slowAgent.destroy()
    await t.runtime.close()

    const during = load.outcomes.slice(beforeClose)
    const resets = load.outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED')
    const answered = during.filter((o) => o.status !== undefined)
    console.log(
      `drain: ${load.outcomes.length} requests (${during.length} during the stop), ${answered.length} answered during it, ` +
        `${resets.length} reset, ${during.filter((o) => o.error === 'ECONNREFUSED').length} refused after the listener closed, close took ${Math.round(closeMs)} ms`,
    )
    expect(resets).toEqual([])
    expect(answered.every((o) => o.status === 200)).toBe(true)
    expect(answered.filter((o) => o.reusedSocket).some((o) => o.connection === 'close')).toBe(true)
    expect(slowOutcome).toMatchObject({ status: 200, connection: 'close' })
    // The idle connections were closed gracefully (FIN), not reset.
    expect(idleEnds).toEqual(['end', 'end', 'end', 'end'])
    expect(closeMs).toBeLessThan(5_000)
  })

  it('cuts requests still running when the drain budget ends, so the stop keeps its deadline', async () => {
    const app = Fastify()
    installGracefulClose(app, { budgetMs: 300, quietMs: 50 })
    app.get('/hang', () => new Promise(() => {}))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const agent = new Agent({ keepAlive: true })
    const hanging = get(`http://127.0.0.1:${port}/hang`, agent)
    await sleep(100)
    const started = performance.now()
    await app.close()
    const closeMs = performance.now() - started
    agent.destroy()
    expect((await hanging).error).toBe('ECONNRESET')
    expect(closeMs).toBeGreaterThan(250)
    expect(closeMs).toBeLessThan(1_000)
  })

  it('under cache hits answered in front of Fastify too: hits during the stop get Connection: close, none is reset', async () => {
    const sim = await startSimulator({ port: 0, token: PLEX_TOKEN, seed: 5, items: 50, speed: 0 })
    // At info level hits take the fast path (at debug every request goes through Fastify).
    const t = await startService({
      env: {
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: PLEX_TOKEN,
        PLEX_TV_URL: sim.url,
        LOG_LEVEL: 'info',
      },
    })
    try {
      const url = `${t.url}/api/plex/sessions`
      expect((await fetch(url)).headers.get('x-cache')).toBe('MISS')
      const load = hammer(url, 12)
      await sleep(300) // every client has its connection: one accepted during the close is the kernel's reset, not the drain's
      await eventually('the load is going (50 answers)', () => load.outcomes.length > 50, 5_000)
      const beforeClose = load.outcomes.length
      const started = performance.now()
      await t.app.close()
      const closeMs = performance.now() - started
      await load.stop()

      const resets = load.outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED')
      const answeredDuringStop = load.outcomes.slice(beforeClose).filter((o) => o.status !== undefined)
      expect(resets).toEqual([])
      expect(answeredDuringStop.filter((o) => o.reusedSocket).some((o) => o.connection === 'close')).toBe(true)
      // Well inside the drain budget (4 s): the clients left once told to, so the server went quiet.
      expect(closeMs).toBeLessThan(3_000)
    } finally {
      await t.runtime.close()
      await sim.close()
    }
  })
})
