-- KEYS[1] t:<client>; ARGV: prefix.
local raw = redis.call("GET", KEYS[1])
if not raw then return false end
local t = cjson.decode(raw)
redis.call("ZREM", ARGV[1] .. "q:" .. t.mode, t.client_id)
unindex(ARGV[1], t)
redis.call("DEL", KEYS[1])
return raw
