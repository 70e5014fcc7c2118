-- KEYS[1] q:<mode>; ARGV: ticket, now, same_ip, iw, rw, lw, prefix, limit, cw.
local q, prefix = KEYS[1], ARGV[7]
local t = cjson.decode(ARGV[1])
local now, limit = tonumber(ARGV[2]), tonumber(ARGV[8])
local p = {same_ip = ARGV[3] == "1", iw = tonumber(ARGV[4]), rw = tonumber(ARGV[5]),
           lw = tonumber(ARGV[6]), cw = tonumber(ARGV[9]), prefix = prefix}
redis.call("ZREM", q, t.client_id)
for _, cid in ipairs(redis.call("ZRANGE", q, 0, limit - 1)) do
  local raw = redis.call("GET", prefix .. "t:" .. cid)
  if not raw then
    redis.call("ZREM", q, cid)
  elseif compatible(cjson.decode(raw), t, now, p) then
    redis.call("ZREM", q, cid)
    redis.call("DEL", prefix .. "t:" .. cid)
    return raw
  end
end
redis.call("SET", prefix .. "t:" .. t.client_id, ARGV[1])
redis.call("ZADD", q, t.since, t.client_id)
return false
