-- KEYS[1] avoid:<subject>; ARGV: other, until, now, cap, ttl_ms.
-- Add (or refresh) one entry, drop the expired ones, keep the `cap` latest, and let the
-- whole list expire with its last entry.
local key, other = KEYS[1], ARGV[1]
local cap, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call("ZADD", key, ARGV[2], other)
redis.call("ZREMRANGEBYSCORE", key, "-inf", ARGV[3])
redis.call("ZREMRANGEBYRANK", key, 0, -(cap + 1))
if redis.call("PTTL", key) < ttl then redis.call("PEXPIRE", key, ttl) end
return redis.call("ZCARD", key)
