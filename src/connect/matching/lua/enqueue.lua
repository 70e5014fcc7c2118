-- KEYS[1] q:<mode>; ARGV: ticket, prefix, cw. Queue a ticket without trying to pair it
-- (bulk loading for the scale benchmark and the cost tests: the same layout as a join that
-- found nobody).
local t = cjson.decode(ARGV[1])
local old = redis.call("GET", ARGV[2] .. "t:" .. t.client_id)
if old then unindex(ARGV[2], cjson.decode(old)) end
enqueue(ARGV[2], t, ARGV[1], {cw = tonumber(ARGV[3])})
return true
