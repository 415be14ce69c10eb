// A raw TCP client: what Node's HTTP parser refuses cannot be sent with fetch.
import { connect } from 'node:net'

export interface RawExchange {
  /** Everything the server wrote. */
  readonly text: string
  /** The status of the first response, or undefined when none came. */
  readonly status: number | undefined
  /** The JSON body of the first response, when it has one. */
  readonly body: Record<string, unknown> | undefined
  /** Milliseconds from the connection to the server closing it; undefined when it stayed open. */
  readonly closedAfterMs: number | undefined
}

/** Writes `chunks` (the last left unfinished if the caller wants) and reads until the server closes or `waitMs` passes. */
export function rawExchange(
  url: string,
  chunks: ReadonlyArray<string | Buffer>,
  waitMs = 2_000,
  options: { untilResponse?: boolean } = {},
): Promise<RawExchange> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const started = performance.now()
    const received: Buffer[] = []
    let closedAfterMs: number | undefined
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      socket.destroy()
      // An interim 100 Continue comes before the answer that counts.
      const text = Buffer.concat(received)
        .toString('latin1')
        .replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]
      const bodyText = text.split('\r\n\r\n')[1]
      let body: Record<string, unknown> | undefined
      try {
        body = bodyText ? (JSON.parse(bodyText) as Record<string, unknown>) : undefined
      } catch {
        body = undefined
      }
      resolve({ text, status: status === undefined ? undefined : Number(status), body, closedAfterMs })
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      if (options.untilResponse && responseComplete(Buffer.concat(received))) finish()
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      closedAfterMs = performance.now() - started
      finish()
    })
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk)
    })
  })
}

/** A first response with its whole Content-Length body (the server's answers all carry one). */
function responseComplete(received: Buffer): boolean {
  const interim = 'HTTP/1.1 100 Continue\r\n\r\n'
  const data =
    received.subarray(0, interim.length).toString('latin1') === interim ? received.subarray(interim.length) : received
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return false
  const length = /\r\ncontent-length: *(\d+)/i.exec(data.subarray(0, end).toString('latin1'))?.[1]
  return length !== undefined && data.length >= end + 4 + Number(length)
}
