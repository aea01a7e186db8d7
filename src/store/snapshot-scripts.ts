/**
 * The two Lua scripts of the snapshot store. Both take the schedule's keys in this order (one hash tag,
 * one Cluster slot): snapshot, tasks, alerts, outbox, changes, muted, acks (the last two: silences'
 * muted alerts and acknowledgements, src/silence).
 *
 * Layout: `snapshot` holds version, commit (a random id per commit), format ('2') and meta (the
 * schedule-level fields as JSON); `tasks` one field per task; `alerts` one field per active alert;
 * `changes` per version the task ids and alert keys that commit wrote or deleted, with the commit it
 * was based on, so a replica that knows an earlier version reads only what changed since.
 * A snapshot written before this layout has a `data` field with the whole snapshot as JSON and no format.
 */
import { LuaScript } from './lua-script.ts';

export const SNAPSHOT_FORMAT = '2';

/** How many versions the change log keeps: a replica further behind reads the whole snapshot. */
export const CHANGE_LOG_LENGTH = 64;

const HMGET_IN_CHUNKS = `
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, 2000 do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + 1999, #fields)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end
`;

/**
 * ARGV: known version, known commit ('-' = nothing known), '1' to include the side tables (a poll's load).
 * Replies (missing hash fields come back as nil):
 *   {'same', version, commit, side}
 *   {'delta', version, commit, side, meta, taskIds, taskValues, alertKeys, alertValues}   (nil value = deleted)
 *   {'full', version, commit, side, meta, tasks (HGETALL), alerts (HGETALL)}
 *   {'legacy', version, commit, side, data}
 * side: {outbox, muted, acks} (each HGETALL), or {} when not asked for. A quiet poll's muted and acks hashes
 * are empty: they cost nothing, and come in the same round trip.
 */
export const READ_SCRIPT = new LuaScript(`${HMGET_IN_CHUNKS}
local head = redis.call('HMGET', KEYS[1], 'version', 'commit', 'format', 'meta')
local version = tonumber(head[1] or '0')
local commit = head[2] or ''
local outbox = {}
if ARGV[3] == '1' then outbox = {redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[6]), redis.call('HGETALL', KEYS[7])} end
local known = tonumber(ARGV[1])
if version == known and commit == ARGV[2] then return {'same', version, commit, outbox} end
if version > 0 and head[3] ~= '${SNAPSHOT_FORMAT}' then
  return {'legacy', version, commit, outbox, redis.call('HGET', KEYS[1], 'data') or ''}
end
if known > 0 and version > known and version - known <= ${CHANGE_LOG_LENGTH} then
  local base = ARGV[2]
  local ids, seenIds, keys, seenKeys = {}, {}, {}, {}
  for v = known + 1, version do
    local raw = redis.call('HGET', KEYS[5], tostring(v))
    if not raw then base = nil break end
    local entry = cjson.decode(raw)
    if entry.b ~= base then base = nil break end
    base = entry.c
    for _, id in ipairs(entry.t) do
      if not seenIds[id] then seenIds[id] = true ids[#ids + 1] = id end
    end
    for _, key in ipairs(entry.a) do
      if not seenKeys[key] then seenKeys[key] = true keys[#keys + 1] = key end
    end
  end
  if base == commit then
    return {'delta', version, commit, outbox, head[4] or '', ids, hmget(KEYS[2], ids), keys, hmget(KEYS[3], keys)}
  end
end
return {'full', version, commit, outbox, head[4] or '', redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}
`);

/**
 * Compare-and-set commit of the changed part of a snapshot, plus the poll's notification batch in the
 * outbox, in one atomic step: either all of it lands or none of it.
 * ARGV: 1 expected version, 2 new version, 3 commit id, 4 base commit ('' = rewrite everything),
 *       5 meta, 6 batch id ('' = none), 7 batch, 8-11 how many task writes, task deletes, alert writes,
 *       alert deletes; then task id/value pairs, task ids, alert key/value pairs, alert keys; then how many
 *       muted alerts the poll settled and their key/value-as-read pairs (each removed only while unchanged),
 *       then how long (ms) to keep the acknowledgements of ended episodes, then their episode ids. KEYS beyond
 *       the seventh: where each of those acknowledgements is kept (src/store/keys.ts endedAckKey), in order.
 * Returns -1 when committed, -2 when the stored commit is not the base the changes were computed
 * against (Redis was restored from an older copy), else the stored version (another poll won).
 */
export const COMMIT_SCRIPT = new LuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local stored = redis.call('HGET', KEYS[1], 'commit') or ''
if current ~= tonumber(ARGV[1]) then
  -- Our own commit, resent by the client after a reconnect lost the first reply: it did land.
  if current == tonumber(ARGV[2]) and stored == ARGV[3] then return -1 end
  return current
end
local full = ARGV[4] == ''
if not full and stored ~= ARGV[4] then return -2 end

local pos = 12
local changedIds, changedKeys = {}, {}
local function apply(command, key, count, width, changed)
  local i = 0
  while i < count do
    local n = math.min(count - i, 1000)
    local from = pos + i * width
    redis.call(command, key, unpack(ARGV, from, from + n * width - 1))
    for j = 0, n - 1 do changed[#changed + 1] = ARGV[from + j * width] end
    i = i + n
  end
  pos = pos + count * width
end
if full then redis.call('DEL', KEYS[2], KEYS[3], KEYS[5]) end
apply('HSET', KEYS[2], tonumber(ARGV[8]), 2, changedIds)
apply('HDEL', KEYS[2], tonumber(ARGV[9]), 1, changedIds)
apply('HSET', KEYS[3], tonumber(ARGV[10]), 2, changedKeys)
apply('HDEL', KEYS[3], tonumber(ARGV[11]), 1, changedKeys)
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'commit', ARGV[3], 'format', '${SNAPSHOT_FORMAT}', 'meta', ARGV[5])
redis.call('HDEL', KEYS[1], 'data')
if not full then
  redis.call('HSET', KEYS[5], ARGV[2], cjson.encode({b = ARGV[4], c = ARGV[3], t = changedIds, a = changedKeys}))
  redis.call('HDEL', KEYS[5], tostring(tonumber(ARGV[2]) - ${CHANGE_LOG_LENGTH}))
end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[4], ARGV[6], ARGV[7]) end
-- Muted alerts this poll released (their release is in the batch above) or found gone, and acknowledgements
-- of episodes that ended: settled in the same step as the snapshot, so a release happens exactly once. An
-- ended acknowledgement leaves the hash (the episode is over) but is kept under its own key for a while: a
-- reminder of the episode queued before it may still wait in the notifier's queue, and must stay unmailed.
local muted = tonumber(ARGV[pos] or '0')
pos = pos + 1
for i = 0, muted - 1 do
  if redis.call('HGET', KEYS[6], ARGV[pos + 2 * i]) == ARGV[pos + 2 * i + 1] then redis.call('HDEL', KEYS[6], ARGV[pos + 2 * i]) end
end
pos = pos + 2 * muted
local keep = tonumber(ARGV[pos] or '0') or 0
for i = pos + 1, #ARGV do
  local ack = redis.call('HGET', KEYS[7], ARGV[i])
  if ack then
    if keep > 0 and KEYS[7 + i - pos] then redis.call('SET', KEYS[7 + i - pos], ack, 'PX', keep) end
    redis.call('HDEL', KEYS[7], ARGV[i])
  end
end
return -1
`);
