-- KEYS[1] q:<mode>; ARGV: ticket, now, same_ip, iw, rw, lw, prefix, limit, cw.
local q, prefix = KEYS[1], ARGV[7]
local t = cjson.decode(ARGV[1])
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[8])
local p = {same_ip = ARGV[3] == "1", iw = tonumber(ARGV[4]), rw = tonumber(ARGV[5]),
           lw = tonumber(ARGV[6]), cw = tonumber(ARGV[9]), prefix = prefix}
local old = redis.call("GET", prefix .. "t:" .. t.client_id)
if old then unindex(prefix, cjson.decode(old)) end
redis.call("ZREM", q, t.client_id)
-- One candidate: its raw ticket when it pairs with the newcomer (taken out of the queue),
-- else nil; a stale id (ticket gone) is dropped and reported with `true` as second value.
local function try(cid)
  local raw = redis.call("GET", prefix .. "t:" .. cid)
  if not raw then
    redis.call("ZREM", q, cid)
    if given(t.countries) then
      for _, c in ipairs(t.countries) do redis.call("ZREM", prefix .. "qc:" .. t.mode .. ":" .. c, cid) end
    end
    return nil, true
  end
  local other = cjson.decode(raw)
  if compatible(other, t, now, p) then
    redis.call("ZREM", q, cid)
    unindex(prefix, other)
    redis.call("DEL", prefix .. "t:" .. cid)
    return raw, false
  end
  return nil, false
end
local countries = t.countries
if given(countries) and #countries > 0 and (p.cw < 0 or now - t.since < p.cw) then
  for _, cid in ipairs(candidates(q, t, now, p, limit)) do
    local raw = try(cid)
    if raw then return raw end
  end
else
  -- The whole queue, oldest first, read in chunks: the usual join pairs with one of the
  -- first few and should not pay for reading `limit` ids.
  local offset, seen, chunk = 0, 0, 32
  while seen < limit do
    local ids = redis.call("ZRANGE", q, offset, offset + math.min(chunk, limit - seen) - 1)
    if #ids == 0 then break end
    local dropped = 0
    for _, cid in ipairs(ids) do
      local raw, stale = try(cid)
      if raw then return raw end
      if stale then dropped = dropped + 1 end
    end
    seen = seen + #ids
    offset = offset + #ids - dropped
    chunk = chunk * 4
  end
end
redis.call("SET", prefix .. "t:" .. t.client_id, ARGV[1])
redis.call("ZADD", q, t.since, t.client_id)
local k = index_key(prefix, t)
if k then redis.call("ZADD", k, t.since, t.client_id) end
return false
