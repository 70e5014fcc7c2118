-- KEYS[1] q:<mode>; ARGV: ticket, now, same_ip, iw, rw, lw, prefix, limit, cw.
local q, prefix = KEYS[1], ARGV[7]
local t = cjson.decode(ARGV[1])
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[8])
local p = {same_ip = ARGV[3] == "1", iw = tonumber(ARGV[4]), rw = tonumber(ARGV[5]),
           lw = tonumber(ARGV[6]), cw = tonumber(ARGV[9]), prefix = prefix}
local old = redis.call("GET", prefix .. "t:" .. t.client_id)
if old then unindex(prefix, cjson.decode(old)) end
redis.call("ZREM", q, t.client_id)
-- The candidates the indexes give (see `sources`), oldest first, at most `limit` of them
-- tried: the first the rules allow is taken out of the queue and returned. A stale id (its
-- ticket gone) is dropped from the queue and the index it was read from.
local next_id, drop = merged(sources(t, now, p))
local tried, n = {}, 0
while n < limit do
  local cid, cursor = next_id()
  if cid == nil then break end
  local seen = tried[cid]
  if seen == "stale" then
    redis.call("ZREM", cursor.key, cid)
    drop(cursor)
  elseif seen == nil then
    n = n + 1
    local raw = redis.call("GET", prefix .. "t:" .. cid)
    if not raw then
      tried[cid] = "stale"
      redis.call("ZREM", q, cid)
      redis.call("ZREM", cursor.key, cid)
      drop(cursor)
    else
      tried[cid] = true
      local other = cjson.decode(raw)
      if compatible(other, t, now, p) then
        redis.call("ZREM", q, cid)
        unindex(prefix, other)
        redis.call("DEL", prefix .. "t:" .. cid)
        return raw
      end
    end
  end
end
enqueue(prefix, t, ARGV[1], p)
return false
