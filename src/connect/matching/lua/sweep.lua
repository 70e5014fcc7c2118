-- KEYS[1] q:<mode>; ARGV: now, same_ip, iw, rw, lw, prefix, limit, cw.
local q, prefix = KEYS[1], ARGV[6]
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[7])
local p = {same_ip = ARGV[2] == "1", iw = tonumber(ARGV[3]), rw = tonumber(ARGV[4]),
           lw = tonumber(ARGV[5]), cw = tonumber(ARGV[8]), prefix = prefix}
local ids = redis.call("ZRANGE", q, 0, limit - 1)
local tickets, raws = {}, {}
for i, cid in ipairs(ids) do
  local raw = redis.call("GET", prefix .. "t:" .. cid)
  if raw then tickets[i] = cjson.decode(raw); raws[i] = raw else redis.call("ZREM", q, cid) end
end
local taken, out = {}, {}
for i = 1, #ids do
  if tickets[i] and not taken[i] then
    for j = i + 1, #ids do
      if tickets[j] and not taken[j] and compatible(tickets[i], tickets[j], now, p) then
        taken[i] = true; taken[j] = true
        out[#out + 1] = raws[i]; out[#out + 1] = raws[j]
        redis.call("ZREM", q, ids[i], ids[j])
        unindex(prefix, tickets[i]); unindex(prefix, tickets[j])
        redis.call("DEL", prefix .. "t:" .. ids[i], prefix .. "t:" .. ids[j])
        break
      end
    end
  end
end
return out
