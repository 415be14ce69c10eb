// The attackers of `npm run bench -- logins`, in a process of their own: `connections` loops
// sending Basic credentials that sign nobody in (a new wrong password each time, half of them
// for a name that exists) to /api/health until `seconds` pass, ignoring Retry-After. Prints one
// JSON line of answers by status at the end.
// Run as `tsx bench/logins/attackers.ts <url> <connections> <seconds> <username>`.
const [url = '', connectionsArg = '50', secondsArg = '20', username = 'viewer'] = process.argv.slice(2)
const endAt = performance.now() + Number(secondsArg) * 1000
const statuses: Record<string, number> = {}

async function attacker(n: number): Promise<void> {
  for (let i = 0; performance.now() < endAt; i++) {
    const name = i % 2 === 0 ? username : `nobody${n}`
    const authorization = `Basic ${Buffer.from(`${name}:guess-${n}-${i}`).toString('base64')}`
    try {
      const response = await fetch(`${url}/api/health`, { headers: { authorization } })
      await response.arrayBuffer()
      statuses[response.status] = (statuses[response.status] ?? 0) + 1
    } catch {
      statuses.failed = (statuses.failed ?? 0) + 1
    }
  }
}

console.log('attackers ready')
await Promise.all(Array.from({ length: Number(connectionsArg) }, (_, n) => attacker(n)))
console.log(JSON.stringify(statuses))
