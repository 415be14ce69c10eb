import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SimulatorControl } from '../types.js'
import { validateFault } from './faults.js'

const MAX_BODY = 64 * 1024

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) reject(new ControlError(413, `control request body is over ${MAX_BODY} bytes`))
      else chunks.push(c)
    })
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim()
      if (text === '') return resolve({})
      try {
        const parsed: unknown = JSON.parse(text)
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
        resolve(parsed as Record<string, unknown>)
      } catch {
        reject(new ControlError(400, 'control request body must be a JSON object'))
      }
    })
    req.on('error', reject)
  })
}

function numberField(body: Record<string, unknown>, name: string): number {
  const v = body[name]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new ControlError(400, `body field "${name}" must be a number >= 0, got ${JSON.stringify(v)}`)
  return v
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * `/__simulator/...`: test and benchmark controls (no PMS has these). Not counted, no
 * token; unreachable during an outage fault, like everything else on the port.
 */
export function createControlApi(control: SimulatorControl) {
  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    handle(control, req, path, res)
      .then((result) => {
        if (result !== ANSWERED) send(res, 200, result ?? { ok: true })
      })
      .catch((err: unknown) => {
        if (err instanceof ControlError) send(res, err.status, { error: err.message })
        else send(res, 400, { error: err instanceof Error ? err.message : String(err) })
      })
  }
}

const ANSWERED = Symbol('answered')

async function handle(
  control: SimulatorControl,
  req: IncomingMessage,
  path: string,
  res: ServerResponse,
): Promise<unknown> {
  const method = req.method ?? 'GET'
  const parts = path.slice('/__simulator/'.length).split('/').filter(Boolean).map(decodeURIComponent)
  const [resource, id, action] = parts
  const route = `${method} ${resource ?? ''}${id !== undefined ? '/:id' : ''}${action !== undefined ? '/' + action : ''}`
  switch (route) {
    case 'GET requests':
      return { total: control.totalRequests(), counts: control.requestCounts() }
    case 'POST requests/:id':
      if (id !== 'reset') break
      control.resetCounts()
      return { ok: true }
    case 'GET faults':
      return { faults: control.faults() }
    case 'POST faults': {
      const fault = (await readJson(req)) as Record<string, unknown>
      if (fault.mode === 'outage') {
        // The outage cuts every connection, this one included: answer first, then go down.
        validateFault(fault)
        send(res, 200, { faults: [...control.faults(), fault] })
        res.once('finish', () => void control.setFault(fault as never).catch(() => undefined))
        return ANSWERED
      }
      await control.setFault(fault as never)
      return { faults: control.faults() }
    }
    case 'DELETE faults':
      await control.clearFaults()
      return { faults: [] }
    case 'POST advance':
      control.advance(numberField(await readJson(req), 'seconds'))
      return { now: control.now() }
    case 'POST speed':
      control.setSpeed(numberField(await readJson(req), 'speed'))
      return { now: control.now(), speed: control.state().speed }
    case 'GET state':
      return control.state()
    case 'POST sessions':
      return control.startSession((await readJson(req)) as never)
    case 'DELETE sessions/:id':
      return found(control.stopSession(id!), `session ${id}`)
    case 'POST sessions/:id/pause':
      return found(control.pauseSession(id!), `session ${id}`)
    case 'POST sessions/:id/resume':
      return found(control.resumeSession(id!), `session ${id}`)
    case 'POST sessions/:id/seek':
      return found(control.seekSession(id!, numberField(await readJson(req), 'viewOffset')), `session ${id}`)
    case 'POST activities':
      return control.startActivity((await readJson(req)) as never)
    case 'DELETE activities/:id':
      return found(control.endActivity(id!), `activity ${id}`)
    case 'POST media':
      return control.addMedia((await readJson(req)) as never)
    case 'DELETE media/:id':
      return found(control.deleteMedia(id!), `item ${id}`)
    case 'POST notifications/:id':
      if (id !== 'drop') break
      return { dropped: control.dropNotificationClients() }
  }
  throw new ControlError(404, `no control endpoint ${method} ${path}; see docs/simulator.md`)
}

function found(ok: boolean, what: string): { ok: true } {
  if (!ok) throw new ControlError(404, `${what} does not exist`)
  return { ok: true }
}
