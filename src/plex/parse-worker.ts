// The parse worker (see parse-pool.ts): decodes one body at a time and hands it back in parts,
// the next part each time the main thread asks.
import { parentPort } from 'node:worker_threads'
import { decodeBody } from './decode.js'
import { bodyParts, type BodyPart } from './parse-slices.js'
import type { ToWorker, FromWorker } from './parse-pool.js'

const port = parentPort!
let current: { id: number; parts: Iterator<BodyPart> } | undefined

function post(message: FromWorker): void {
  port.postMessage(message)
}

function sendNext(id: number): void {
  if (current?.id !== id) return
  try {
    const next = current.parts.next()
    if (next.done) {
      current = undefined
      post({ id, done: true })
    } else {
      post({ id, part: next.value })
    }
  } catch (error) {
    current = undefined
    post({
      id,
      problem: `the reply could not be sent back from the parse worker (${error instanceof Error ? error.message : String(error)})`,
    })
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'next') {
    sendNext(message.id)
    return
  }
  const { id, bytes, contentType } = message
  let decoded: ReturnType<typeof decodeBody>
  try {
    decoded = decodeBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), contentType)
  } catch (error) {
    decoded = { problem: `the reply could not be parsed (${error instanceof Error ? error.message : String(error)})` }
  }
  if ('problem' in decoded) {
    current = undefined
    post({ id, problem: decoded.problem })
    return
  }
  current = { id, parts: bodyParts(decoded.value) }
  sendNext(id)
})
