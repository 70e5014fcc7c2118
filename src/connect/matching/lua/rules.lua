-- The compatibility rules of connect.matching.rules, in Lua (kept in step by the tests).
local cjson_null = cjson.null
local function has_common(a, b)
  for _, x in ipairs(a) do for _, y in ipairs(b) do if x == y then return true end end end
  return false
end
local function given(v) return v ~= nil and v ~= cjson_null end
local function accepts(me, other, now, iw, rw, lw)
  local waited = now - me.since
  if #me.interests > 0 and waited < iw and not has_common(me.interests, other.interests) then return false end
  if given(me.region) and given(other.region) and me.region ~= other.region and waited < rw then return false end
  if given(me.language) and given(other.language) and me.language ~= other.language
     and (lw < 0 or waited < lw) then return false end
  return true
end
local function pairkey(a, b) if a < b then return a .. "|" .. b else return b .. "|" .. a end end
-- avoid:<subject> is a sorted set of the subjects it avoids, scored by until: ZSCORE is O(1),
-- so a candidate costs two look-ups whatever the lists' lengths.
local function avoids(subject, other, now, prefix)
  local until_ = redis.call("ZSCORE", prefix .. "avoid:" .. subject, other)
  return until_ and tonumber(until_) > now
end
-- The pure rules first; the pair memories (Redis look-ups) only for a pair they allow.
local function compatible(a, b, now, same_ip, iw, rw, lw, prefix)
  if a.mode ~= b.mode or a.client_id == b.client_id or a.device_id == b.device_id then return false end
  if not same_ip and a.ip_hash == b.ip_hash then return false end
  if not (accepts(a, b, now, iw, rw, lw) and accepts(b, a, now, iw, rw, lw)) then return false end
  local until_ = redis.call("GET", prefix .. "recent:" .. pairkey(a.device_id, b.device_id))
  if until_ and tonumber(until_) > now then return false end
  return not (avoids(a.device_id, b.device_id, now, prefix) or avoids(b.device_id, a.device_id, now, prefix))
end
