-- KEYS: nodes, q:video, q:text; ARGV: prefix, dead_after_s.
-- Sockets held by the nodes that beat recently (scores are Redis' clock, as the cluster's
-- heartbeat writes them), and the queue lengths: one round trip, O(number of nodes).
-- Suspended places count as online: they are coming back.
local prefix, dead = ARGV[1], tonumber(ARGV[2])
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local online = 0
for _, node in ipairs(redis.call("ZRANGEBYSCORE", KEYS[1], now - dead, "+inf")) do
  online = online + redis.call("SCARD", prefix .. "nodeconns:" .. node)
end
return {online, redis.call("ZCARD", KEYS[2]), redis.call("ZCARD", KEYS[3])}
