import { Server } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { systemClock, type Clock } from '../cache/index.js'

/** SIGTERM to exit: docker's default grace period is 10 s, ours is half of it. */
export const SHUTDOWN_DEADLINE_MS = 5_000

export interface DrainOptions {
  /** How long requests in flight may take to finish; then their connections are cut. */
  readonly budgetMs: number
  /** No request in flight and none begun for this long: the idle connections left may close. */
  readonly quietMs: number
  /**
   * Real sockets wait on real time: a test's manual clock (which the caches run on) must not
   * freeze the stop, so this is the system clock unless a test of the drain itself passes one.
   */
  readonly clock: Clock
}

/** The HTTP drain's share of the deadline; the rest stops the jobs and closes Redis and the database. */
const DEFAULTS: DrainOptions = { budgetMs: SHUTDOWN_DEADLINE_MS - 1_000, quietMs: 100, clock: systemClock }
const POLL_MS = 20

/**
 * How close() stops the server without resetting a client. Node's `server.close()` (which
 * Fastify calls) also destroys every idle keep-alive connection at that instant, and a client
 * that has just sent its next request on one gets ECONNRESET; Fastify's 503-while-closing fails
 * requests that reached us in time. Instead, when close() begins:
 * 1. stop accepting connections (new ones are refused, a clean error for a client to retry);
 * 2. answer every request on the open connections, each with `Connection: close`, so the
 *    client drops the connection after that answer instead of reusing it;
 * 3. once nothing is in flight and no request began for `quietMs`, let Fastify close the
 *    server, which closes the connections that stayed idle (no client is sending on them);
 * 4. past `budgetMs`, cut the requests still running, so the stop keeps its deadline.
 */
export function installGracefulClose(app: FastifyInstance, options: Partial<DrainOptions> = {}): void {
  const { budgetMs, quietMs, clock } = { ...DEFAULTS, ...options }
  let draining = false
  let inFlight = 0
  let lastActivityAt = -Infinity
  const settled = () => {
    inFlight--
    lastActivityAt = clock.now()
  }
  app.server.on('request', (_request, response) => {
    inFlight++
    lastActivityAt = clock.now()
    response.once('close', settled)
  })

  // Callback style: an async hook costs a promise on every request of the hot path.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close')
    done(null, payload)
  })

  app.addHook('preClose', async () => {
    draining = true
    if (!app.server.listening) return
    // net's close, not http's: stop listening but leave the connections to the steps above.
    Server.prototype.close.call(app.server)
    const started = clock.now()
    while (inFlight > 0 || clock.now() - lastActivityAt < quietMs) {
      if (clock.now() - started >= budgetMs) {
        app.log.warn(
          { requests: inFlight, budgetMs },
          `${inFlight} requests still running when the drain ended: their connections are cut`,
        )
        app.server.closeAllConnections()
        return
      }
      await new Promise<void>((resolve) => clock.setTimer(resolve, POLL_MS))
    }
  })
}
