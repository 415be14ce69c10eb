import { afterAll, describe, expect, it } from 'vitest'
import { BIG_BODY_PATH, download, GiB, startBigBodyPms } from '../../bench/mirror/big-body.js'
import { startMirrorService, type MirrorUnderTest } from '../../bench/mirror/service.js'

const TOKEN = 'big-body-token-5150'
const MiB = 1024 * 1024
let pms: Awaited<ReturnType<typeof startBigBodyPms>> | undefined
let service: MirrorUnderTest | undefined
afterAll(async () => {
  await service?.stop()
  await pms?.close()
})

describe('a 1 GiB download through the mirror', () => {
  // The service runs in a child process of its own, so its resident set is the pass-through's.
  it('passes every byte through, streamed: the service grows by less than 32 MiB', async () => {
    pms = await startBigBodyPms(GiB, TOKEN)
    service = await startMirrorService({ plexUrl: pms.url, plexToken: TOKEN })
    // Start-up (warm-up loads, first sockets and buffers) settles during a smaller download first.
    const warmUp = await download(`${service.url}${BIG_BODY_PATH}?bytes=${64 * MiB}`, TOKEN, undefined)
    expect(warmUp.bytes).toBe(64 * MiB)
    const run = await download(`${service.url}${BIG_BODY_PATH}`, TOKEN, service.process.child.pid)
    expect(run.bytes).toBe(GiB)
    expect(run.rssPeak - run.rssBefore).toBeLessThan(32 * MiB)
  }, 180_000)
})
