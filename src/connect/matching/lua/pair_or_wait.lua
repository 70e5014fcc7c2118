local q, prefix = KEYS[1], ARGV[7]
local t = cjson.decode(ARGV[1])
local now, same_ip = tonumber(ARGV[2]), ARGV[3] == "1"
local iw, rw, lw, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[8])
redis.call("ZREM", q, t.client_id)
for _, cid in ipairs(redis.call("ZRANGE", q, 0, limit - 1)) do
  local raw = redis.call("GET", prefix .. "t:" .. cid)
  if not raw then
    redis.call("ZREM", q, cid)
  elseif compatible(cjson.decode(raw), t, now, same_ip, iw, rw, lw, prefix) then
    redis.call("ZREM", q, cid)
    redis.call("DEL", prefix .. "t:" .. cid)
    return raw
  end
end
redis.call("SET", prefix .. "t:" .. t.client_id, ARGV[1])
redis.call("ZADD", q, t.since, t.client_id)
return false
