/**
 * Lua run inside Redis, where a read-then-write must not race another client. Each touches one
 * key (or keys of one hash tag), so each runs on a cluster too.
 */

/** The value and its remaining ms in one round trip (GET and PTTL sent apart cost ~15% more). */
export const GET_WITH_PTTL = `
local value = redis.call('GET', KEYS[1])
if not value then return false end
return {value, redis.call('PTTL', KEYS[1])}
`

/** The first bytes of a value (its header) and its remaining ms: how old it is, without moving it. */
export const HEAD_WITH_PTTL = `
local head = redis.call('GETRANGE', KEYS[1], 0, 63)
if head == '' then return false end
return {head, redis.call('PTTL', KEYS[1])}
`

/** Deletes a lock or lease only while it still holds our token: never someone else's. */
export const RELEASE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** Extends a lock or lease by ARGV[2] ms while it holds our token; 0 when it is not ours (any more). */
export const EXTEND_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`

/** Renews the lease when ours, takes it when free; 0 when another holder has it. */
export const CLAIM_OR_RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`

/**
 * The index of a bounded keyed cache, updated with each write: KEYS[1] a sorted set of the
 * group's value keys scored by when they expire (Redis time), KEYS[2] a hash of their stored
 * sizes plus `#total`, KEYS[3] the value key when this script writes it. ARGV: [1] the value
 * key, [2] its size, [3] its lifetime (ms), [4] maxKeys, [5] maxBytes, [6] the value itself, or
 * '' when the caller SETs it (a cluster, where the value key lives in another slot).
 * Drops index entries that expired, then the keys soonest to expire until the group is within
 * both bounds; returns the keys dropped that the caller must delete (those of other slots), or
 * an empty list when the script deleted them itself.
 */
export const SET_BOUNDED = `
local index, sizes = KEYS[1], KEYS[2]
local member, size, lifetime = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local maxKeys, maxBytes = tonumber(ARGV[4]), tonumber(ARGV[5])
local inline = ARGV[6] ~= ''
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if inline then redis.call('SET', KEYS[3], ARGV[6], 'PX', lifetime) end
local total = tonumber(redis.call('HGET', sizes, '#total') or '0')
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now)) do
  total = total - tonumber(redis.call('HGET', sizes, gone) or '0')
  redis.call('HDEL', sizes, gone)
end
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
total = total - tonumber(redis.call('HGET', sizes, member) or '0') + size
redis.call('ZADD', index, now + lifetime, member)
redis.call('HSET', sizes, member, size)
local dropped = {}
while redis.call('ZCARD', index) > maxKeys or total > maxBytes do
  local oldest = redis.call('ZPOPMIN', index)
  if #oldest == 0 then break end
  local victim = oldest[1]
  total = total - tonumber(redis.call('HGET', sizes, victim) or '0')
  redis.call('HDEL', sizes, victim)
  if inline then redis.call('UNLINK', victim) else dropped[#dropped + 1] = victim end
end
redis.call('HSET', sizes, '#total', total)
-- The index outlives every member: its life only grows.
if redis.call('PTTL', index) < lifetime then redis.call('PEXPIRE', index, lifetime) end
if redis.call('PTTL', sizes) < lifetime then redis.call('PEXPIRE', sizes, lifetime) end
return dropped
`
