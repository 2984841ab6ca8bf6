/**
 * The Lua scripts of the Redis bus. Each runs atomically in Redis, which is
 * what makes seqs, state, history and pub/sub agree across instances.
 *
 * Keys of one topic share a hash tag (`{topic}`) so a Redis Cluster keeps them
 * on one node.
 *
 * @module
 */

/**
 * Publishes one message.
 *
 * KEYS: seq, state, hist, topics set.
 * ARGV: topic, envelope JSON (without seq), key or "", the key's new value
 * JSON, max history length, oldest ts kept, ts, max topics (0 = none), max
 * keys (0 = none), channel, op ("", "patch" or "delete"), and for a patch the
 * value JSON the merge started from ("" when the key had none).
 * Returns the seq, or an error `limit_reached: …`, or `conflict: …` when a
 * patch's starting value changed meanwhile (merge again and retry).
 */
export const PUBLISH_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if tonumber(ARGV[8]) > 0 and redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[8]) then
    return redis.error_reply('limit_reached: the server already holds ' .. ARGV[8] .. ' topics (--max-topics)')
  end
  redis.call('SADD', KEYS[4], ARGV[1])
end
if ARGV[3] ~= '' and ARGV[11] == 'delete' then
  redis.call('HDEL', KEYS[2], ARGV[3])
elseif ARGV[3] ~= '' then
  if ARGV[11] == 'patch' and (redis.call('HGET', KEYS[2], ARGV[3]) or '') ~= ARGV[12] then
    return redis.error_reply('conflict: the value changed while the patch was merged')
  end
  if tonumber(ARGV[9]) > 0 and redis.call('HEXISTS', KEYS[2], ARGV[3]) == 0
     and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[9]) then
    return redis.error_reply('limit_reached: topic holds ' .. ARGV[9] .. ' keys (--max-keys-per-topic)')
  end
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[5], seq .. '-0', 'e', ARGV[2], 't', ARGV[7])
local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 32)
for _, entry in ipairs(oldest) do
  if tonumber(entry[2][4]) < tonumber(ARGV[6]) then
    redis.call('XDEL', KEYS[3], entry[1])
  else
    break
  end
end
redis.call('PUBLISH', ARGV[10], '{"seq":' .. seq .. ',"e":' .. ARGV[2] .. '}')
return seq
`;

/**
 * Reads the keyed state with the seq it reflects.
 *
 * KEYS: seq, state. Returns `[seq, [k1, v1, k2, v2, …]]`.
 */
export const SNAPSHOT_SCRIPT = `
return { redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]) }
`;

/**
 * Reads history after a seq.
 *
 * KEYS: seq, hist. ARGV: first seq wanted, last seq wanted (or "+"), count.
 * Returns `[lastSeq, entries, oldestEntry]`; an entry is `[id, ["e", json, "t", ts]]`.
 */
export const HISTORY_SCRIPT = `
local first = ARGV[1] .. '-0'
local last = ARGV[2] == '+' and '+' or (ARGV[2] .. '-0')
return {
  redis.call('GET', KEYS[1]) or '0',
  redis.call('XRANGE', KEYS[2], first, last, 'COUNT', ARGV[3]),
  redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
}
`;
