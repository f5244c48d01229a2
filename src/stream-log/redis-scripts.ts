import { defineScript } from '../redis/script.js'

/**
 * The Redis layout of the stream log (SPEC §9.1), all under the configured prefix:
 * - `stream:{id}`: a hash with the stream's info (field names below);
 * - `stream:{id}:events`: a Redis Stream, one entry per event, its entry id `0-<seq>`, so "the
 *   events after n" is one XRANGE from `0-<n+1>`. A chunk is stored as its two strings (`d`
 *   data, `t` text: no JSON around JSON), a final event as `e` (its JSON); `i` is the ids JSON;
 * - `instance:<id>`: a replica's lease, alive while that replica runs (redis-lease.ts);
 * - channels `wake:<id>` (something was appended or removed) and `cancel:<instance>`.
 * The `{id}` hash tag keeps a stream's two keys in one cluster slot.
 *
 * Info hash fields: fmt, created, expires (what info() reports), ttl, seq, ids, fin, dlv, rd
 * (readers), rdAt, bytes (chunk bytes as the producer counts them), owner (instance), deadline
 * (when the keys go even if never finished), cancel.
 *
 * Every write is one script, so no reader ever sees half of it, and every script checks the
 * hash exists before touching it: a write to an expired stream must not recreate a key that
 * would never expire. Numbers written from Lua go through %d: Lua would print an epoch in ms
 * as 1.7e+12.
 */
export function streamKeys (prefix: string, id: string): { info: string, events: string, wake: string } {
  return { info: `${prefix}stream:{${id}}`, events: `${prefix}stream:{${id}}:events`, wake: `${prefix}wake:${id}` }
}

export function instanceKey (prefix: string, instance: string): string {
  return `${prefix}instance:${instance}`
}

export function cancelChannel (prefix: string, instance: string): string {
  return `${prefix}cancel:${instance}`
}

/**
 * KEYS info, events, instance. ARGV now, expires, ttl, format, owner, deadline, leaseTtl, fingerprint.
 * 0: the id exists. 1: created. 2: created, and this replica's lease had lapsed before (its
 * other streams may have been ended by other replicas).
 */
export const CREATE = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'fmt', ARGV[4], 'created', ARGV[1], 'expires', ARGV[2], 'ttl', ARGV[3],
  'seq', '0', 'ids', '{}', 'fin', '0', 'dlv', '0', 'rd', '0', 'rdAt', ARGV[1], 'bytes', '0',
  'owner', ARGV[5], 'deadline', ARGV[6])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'fp', ARGV[8]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
if redis.call('PEXPIRE', KEYS[3], ARGV[7]) == 1 then return 1 end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[7])
return 2
`)

/** Result codes of APPEND besides a positive sequence number. */
export const APPEND_UNKNOWN = -1
export const APPEND_FINISHED = -2
/** The chunk would have overflowed the buffer: the overflow error was stored instead, the stream ended. */
export const APPEND_OVERFLOW = -3
/** An orphan check found the owner alive (or another owner): nothing was stored. */
export const APPEND_OWNER_ALIVE = -4

/**
 * KEYS info, events [, owner's instance key: only when ending an orphan].
 * ARGV 1 now, 2 mode, 3 data or final event JSON, 4 text, 5 ids JSON, 6 shows JSON, 7 chunk
 * bytes, 8 max bytes, 9 overflow event JSON, 10 its shows JSON, 11 wake channel, 12 owner.
 * Modes: `c` a chunk with its ids; `f` a final event with its ids; `r` a final event numbered
 * here (last ids + shows: after events were lost, or by another replica than the producer).
 * Publishes the wake-up; a final event moves the expiry to ttl after now.
 */
export const APPEND = defineScript(`
local st = redis.call('HMGET', KEYS[1], 'fin', 'seq', 'bytes', 'ids', 'ttl', 'expires', 'deadline', 'owner')
if not st[1] then return -1 end
if st[1] == '1' then return -2 end
if KEYS[3] and (st[8] ~= ARGV[12] or redis.call('EXISTS', KEYS[3]) == 1) then return -4 end
local function bump (shows)
  local ids = cjson.decode(st[4])
  for name, n in pairs(cjson.decode(shows)) do ids[name] = (tonumber(ids[name]) or 0) + n end
  return cjson.encode(ids)
end
local seq = tonumber(st[2]) + 1
local entry = '0-' .. seq
local mode = ARGV[2]
local result = seq
if mode == 'c' then
  local bytes = tonumber(st[3]) + tonumber(ARGV[7])
  if bytes > tonumber(ARGV[8]) then
    mode = 'o'
    result = -3
  else
    redis.call('HSET', KEYS[1], 'bytes', string.format('%d', bytes))
  end
end
local ids = ARGV[5]
if mode == 'c' then
  redis.call('XADD', KEYS[2], entry, 'd', ARGV[3], 't', ARGV[4], 'i', ids)
elseif mode == 'f' then
  redis.call('XADD', KEYS[2], entry, 'e', ARGV[3], 'i', ids)
elseif mode == 'r' then
  ids = bump(ARGV[6])
  redis.call('XADD', KEYS[2], entry, 'e', ARGV[3], 'i', ids)
else
  ids = bump(ARGV[10])
  redis.call('XADD', KEYS[2], entry, 'e', ARGV[9], 'i', ids)
end
redis.call('HSET', KEYS[1], 'seq', string.format('%d', seq), 'ids', ids)
if mode == 'c' then
  if seq == 1 then redis.call('PEXPIREAT', KEYS[2], st[7]) end
else
  local expires = string.format('%d', math.max(tonumber(st[6]), tonumber(ARGV[1]) + tonumber(st[5])))
  redis.call('HSET', KEYS[1], 'fin', '1', 'expires', expires)
  redis.call('PEXPIREAT', KEYS[1], expires)
  redis.call('PEXPIREAT', KEYS[2], expires)
end
redis.call('PUBLISH', ARGV[11], string.format('%d', seq))
return result
`)

/** KEYS info, events. ARGV first entry id. Nil for an unknown stream, else XRANGE's entries. */
export const EVENTS_AFTER = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('XRANGE', KEYS[2], ARGV[1], '+')
`)

/**
 * KEYS info, events. ARGV format, lastEventId. -1 for an unknown stream, else how many events
 * the format numbers at most lastEventId: a binary search (the counts never decrease), one
 * single-entry XRANGE per step, as the memory store searches its array.
 */
export const POSITION_AFTER = defineScript(`
local seq = redis.call('HGET', KEYS[1], 'seq')
if not seq then return -1 end
local low, high, last = 0, tonumber(seq), tonumber(ARGV[2])
while low < high do
  local mid = math.floor((low + high) / 2)
  local entry = '0-' .. (mid + 1)
  local found = redis.call('XRANGE', KEYS[2], entry, entry)[1]
  local n = 0
  if found then
    local fields = found[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'i' then n = tonumber(cjson.decode(fields[i + 1])[ARGV[1]]) or 0 end
    end
  end
  if n <= last then low = mid + 1 else high = mid end
end
return low
`)

/** KEYS info. ARGV delta (+1 attach, -1 detach), now. The count never goes below 0. */
export const ADJUST_READERS = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], 'rd', ARGV[1]) < 0 then redis.call('HSET', KEYS[1], 'rd', '0') end
redis.call('HSET', KEYS[1], 'rdAt', ARGV[2])
return 1
`)

/** KEYS info. */
export const MARK_DELIVERED = defineScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'dlv', '1')
return 1
`)

/** KEYS info, events. ARGV wake channel. Removes both keys and wakes the readers (they then find nothing). */
export const DELETE = defineScript(`
local n = redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[1], 'deleted')
return n
`)

/**
 * KEYS info. ARGV cancel channel prefix, stream id. Flags the stream (for a producer that
 * missed the message while reconnecting) and tells its owner. 1 when an unfinished stream was
 * signalled, else 0.
 */
export const REQUEST_CANCEL = defineScript(`
local st = redis.call('HMGET', KEYS[1], 'fin', 'owner')
if not st[1] or st[1] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'cancel', '1')
redis.call('PUBLISH', ARGV[1] .. st[2], ARGV[2])
return 1
`)

/** KEYS instance. ARGV ttl. 1: renewed. 0: it had lapsed (now set again). */
export const RENEW_LEASE = defineScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then return 1 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 0
`)
