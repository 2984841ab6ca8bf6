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
 * Publishes a batch of messages, all of them or none: every check (deadline,
 * patch conflicts, `--max-topics`, `--max-keys-per-topic`, counting what the
 * batch itself creates) runs before the first write.
 *
 * KEYS: the topics set, then per distinct topic of the batch (1-based `t`):
 * `KEYS[3t-1]` seq, `KEYS[3t]` state, `KEYS[3t+1]` hist.
 *
 * ARGV: max history length, oldest ts kept, max topics (0 = none), max keys
 * (0 = none), deadline in Redis-clock ms (0 = none), topic count `T`, `T`
 * topic names, `T` channels; then `C` and `C` conflict checks `t, key,
 * expected value JSON` ("" for none: the value each patch was merged from);
 * then `N` and `N` requests `t, envelope JSON (without seq), key or "", new
 * value JSON, op ("", "patch" or "delete"), ts`.
 *
 * Returns the seqs, in request order; or an error `expired: …` (the deadline
 * passed before Redis ran it: the caller already gave up), `conflict: …` (a
 * patch's starting value changed meanwhile: merge again and retry) or
 * `limit_reached: …`. Nothing is written when it returns an error.
 */
export const PUBLISH_BATCH_SCRIPT = `
local maxLen, cutoff = ARGV[1], tonumber(ARGV[2])
local maxTopics, maxKeys = tonumber(ARGV[3]), tonumber(ARGV[4])
local deadline = tonumber(ARGV[5])
if deadline > 0 then
  local now = redis.call('TIME')
  if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > deadline then
    return redis.error_reply('expired: Redis ran the publish after its deadline; nothing was published')
  end
end
local nt = tonumber(ARGV[6])
local i = 7 + 2 * nt
local nc = tonumber(ARGV[i])
i = i + 1
for _ = 1, nc do
  if (redis.call('HGET', KEYS[3 * tonumber(ARGV[i])], ARGV[i + 1]) or '') ~= ARGV[i + 2] then
    return redis.error_reply('conflict: the value changed while the patch was merged')
  end
  i = i + 3
end
local nr = tonumber(ARGV[i])
local first = i + 1
local fresh, newTopics = {}, 0
for t = 1, nt do
  if redis.call('EXISTS', KEYS[3 * t - 1]) == 0 then
    fresh[t] = true
    newTopics = newTopics + 1
  end
end
if maxTopics > 0 and newTopics > 0 then
  local held = redis.call('SCARD', KEYS[1])
  if held + newTopics > maxTopics then
    return redis.error_reply('limit_reached: Nothing was published: the server holds ' .. held ..
      ' topics and this publish creates ' .. newTopics .. '; the limit is ' .. maxTopics ..
      ' (--max-topics); publish to an existing topic')
  end
end
if maxKeys > 0 then
  local seen, added, held = {}, {}, {}
  for r = 0, nr - 1 do
    local b = first + 6 * r
    local t, key = tonumber(ARGV[b]), ARGV[b + 2]
    if key ~= '' and ARGV[b + 4] ~= 'delete' then
      seen[t] = seen[t] or {}
      if not seen[t][key] then
        seen[t][key] = true
        if redis.call('HEXISTS', KEYS[3 * t], key) == 0 then
          held[t] = held[t] or redis.call('HLEN', KEYS[3 * t])
          added[t] = (added[t] or 0) + 1
          if held[t] + added[t] > maxKeys then
            return redis.error_reply('limit_reached: Nothing was published: it would take topic "' ..
              ARGV[6 + t] .. '" past ' .. maxKeys .. ' keys (--max-keys-per-topic): it holds ' ..
              held[t] .. ' and the publish adds at least ' .. added[t] .. '; reuse or delete keys')
          end
        end
      end
    end
  end
end
for t = 1, nt do
  if fresh[t] then redis.call('SADD', KEYS[1], ARGV[6 + t]) end
end
local seqs = {}
for r = 0, nr - 1 do
  local b = first + 6 * r
  local t, env, key = tonumber(ARGV[b]), ARGV[b + 1], ARGV[b + 2]
  if key ~= '' and ARGV[b + 4] == 'delete' then
    redis.call('HDEL', KEYS[3 * t], key)
  elseif key ~= '' then
    redis.call('HSET', KEYS[3 * t], key, ARGV[b + 3])
  end
  local seq = redis.call('INCR', KEYS[3 * t - 1])
  redis.call('XADD', KEYS[3 * t + 1], 'MAXLEN', maxLen, seq .. '-0', 'e', env, 't', ARGV[b + 5])
  redis.call('PUBLISH', ARGV[6 + nt + t], '{"seq":' .. seq .. ',"e":' .. env .. '}')
  seqs[r + 1] = seq
end
for t = 1, nt do
  local oldest = redis.call('XRANGE', KEYS[3 * t + 1], '-', '+', 'COUNT', 32)
  for _, entry in ipairs(oldest) do
    if tonumber(entry[2][4]) < cutoff then
      redis.call('XDEL', KEYS[3 * t + 1], entry[1])
    else
      break
    end
  end
end
return seqs
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

/** Redis keys of one topic, sharing its hash tag. */
export interface TopicKeys {
  seq: string;
  state: string;
  hist: string;
}

/**
 * The keys of `topic` under `prefix`.
 *
 * @example
 * ```ts
 * import { topicKeys } from "./redis_scripts.ts";
 * topicKeys("floodgate", "t").seq; // "floodgate:{t}:seq"
 * ```
 */
export function topicKeys(prefix: string, topic: string): TopicKeys {
  const base = `${prefix}:{${topic}}`;
  return { seq: `${base}:seq`, state: `${base}:state`, hist: `${base}:hist` };
}

/** The pub/sub channel of `topic` under `prefix`: `prefix:{topic}:msg`. */
export function topicChannel(prefix: string, topic: string): string {
  return `${prefix}:{${topic}}:msg`;
}

/** The set of every topic under `prefix` (what `--max-topics` counts). */
export function topicsSetKey(prefix: string): string {
  return `${prefix}:topics`;
}
