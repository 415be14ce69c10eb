// The heavy clients of `npm run bench -- fairness`, in a process of their own so that reading
// megabytes of JSON does not slow the probes measuring the service: `clients` loops paging the
// whole watch history at `limit`, each from its own offset, until `seconds` pass; a 429 waits
// its Retry-After, as a browser's retry would. Prints one JSON line of counts at the end.
// Run as `tsx bench/fairness/history-pagers.ts <url> <clients> <seconds> <limit> <rows>`.
const [url = '', clientsArg = '8', secondsArg = '20', limitArg = '5000', rowsArg = '60000'] = process.argv.slice(2)
const clients = Number(clientsArg)
const limit = Number(limitArg)
const pages = Math.max(1, Math.ceil(Number(rowsArg) / limit))
const endAt = performance.now() + Number(secondsArg) * 1000
const counts = { ok: 0, refused: 0, failed: 0, bytes: 0 }

async function pager(client: number): Promise<void> {
  let page = client % pages
  while (performance.now() < endAt) {
    const response = await fetch(`${url}/api/plex/watch-history?limit=${limit}&offset=${page * limit}`).catch(
      () => undefined,
    )
    if (response === undefined) {
      counts.failed++
      continue
    }
    const body = await response.arrayBuffer()
    if (response.status === 200) {
      counts.ok++
      counts.bytes += body.byteLength
      page = (page + 1) % pages
    } else if (response.status === 429) {
      counts.refused++
      const wait = Number(response.headers.get('retry-after') ?? 1) * 1000
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, endAt - performance.now())))
    } else {
      counts.failed++
    }
  }
}

console.log('pagers ready')
await Promise.all(Array.from({ length: clients }, (_, client) => pager(client)))
console.log(JSON.stringify(counts))
