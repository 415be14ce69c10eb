import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { eventually } from '../support/eventually.js'
import { RECORDED_TOKEN, startMirror, startRecordedPms, type MirrorApp, type RecordedPms } from './harness.js'

let pms: RecordedPms | undefined
let mirror: MirrorApp | undefined
const sockets: WebSocket[] = []
const streams: AbortController[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
  for (const stream of streams.splice(0)) stream.abort()
  await mirror?.close()
  await pms?.close()
  mirror = pms = undefined
})

async function listeners(): Promise<{ websocket: number; sse: number }> {
  return (await fetch(`${pms!.url}/__recorded/listeners`)).json() as Promise<{ websocket: number; sse: number }>
}

function webSocketClient(url: string, token: string): Promise<{ socket: WebSocket; frames: string[] }> {
  const frames: string[] = []
  const socket = new WebSocket(`${url.replace('http', 'ws')}/:/websockets/notifications?X-Plex-Token=${token}`)
  sockets.push(socket)
  socket.on('message', (data) => frames.push(data.toString()))
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, frames }))
    socket.once('unexpected-response', (_req, res) => reject(new Error(`answered ${res.statusCode}`)))
    socket.once('error', reject)
  })
}

async function eventSourceClient(url: string): Promise<{ text: () => string }> {
  const controller = new AbortController()
  streams.push(controller)
  const res = await fetch(`${url}/:/eventsource/notifications`, {
    headers: { 'X-Plex-Token': RECORDED_TOKEN },
    signal: controller.signal,
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  let text = ''
  const decoder = new TextDecoder()
  void (async () => {
    for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true })
  })().catch(() => undefined)
  return { text: () => text }
}

const stopped = {
  NotificationContainer: {
    type: 'playing',
    size: 1,
    PlaySessionStateNotification: [
      { sessionKey: '7', ratingKey: '44288', key: '/library/metadata/44288', viewOffset: 1000, state: 'stopped' },
    ],
  },
}

describe('notifications through the mirror', () => {
  it('fans the one upstream stream out to every client, WebSocket and SSE, and drops what a stop changes', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url, { jobs: true })
    await eventually('the service holds its one stream on PMS', async () => (await listeners()).websocket === 1)
    const sessions = () => fetch(`${mirror!.url}/status/sessions`, { headers: { 'X-Plex-Token': RECORDED_TOKEN } })
    await (await sessions()).text()
    expect((await sessions()).headers.get('x-cache')).toBe('HIT')

    const ws = await Promise.all([1, 2, 3].map(() => webSocketClient(mirror!.url, RECORDED_TOKEN)))
    const sse = await Promise.all([1, 2].map(() => eventSourceClient(mirror!.url)))
    expect(await listeners()).toEqual({ websocket: 1, sse: 0 })

    expect(await pms.control('notify', stopped)).toEqual({ delivered: 1 })
    const text = JSON.stringify(stopped)
    await eventually('every client has the frame', () =>
      [...ws.map((c) => c.frames.length === 1), ...sse.map((c) => c.text().includes('event: playing'))].every(Boolean),
    )
    for (const client of ws) expect(client.frames).toEqual([text])
    for (const client of sse) expect(client.text()).toContain(`event: playing\ndata: ${text}\n\n`)
    const after = await sessions()
    expect(after.headers.get('x-cache')).toBe('MISS')
  })

  it('passes another token’s WebSocket to PMS, which decides', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url, { jobs: true })
    await expect(webSocketClient(mirror.url, 'not-the-token')).rejects.toThrow('answered 401')
    const direct = await webSocketClient(pms.url, RECORDED_TOKEN)
    direct.socket.terminate()
  })
})
