import { isIPv6 } from 'node:net'

/**
 * Who a per-client limit counts: the address a request came from, an IPv4 address seen as
 * IPv6 (`::ffff:1.2.3.4`) as the IPv4 one, and an IPv6 address by its /64, the block one host
 * commonly holds whole.
 */
export function clientOf(address: string | undefined): string {
  if (address === undefined) return 'unknown'
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7)
  if (!isIPv6(address)) return address
  const [head = '', tail] = address.split('::')
  const groups = head === '' ? [] : head.split(':')
  // A `::` within the first four groups zero-fills up to them.
  if (tail !== undefined) while (groups.length < 4) groups.push('0')
  return `${groups
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
