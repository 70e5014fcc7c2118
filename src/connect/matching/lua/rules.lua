-- The compatibility rules of connect.matching.rules, in Lua (kept in step by the tests).
-- p: the policy {same_ip, iw, rw, lw, cw, prefix}; a widening time < 0 means never.
local cjson_null = cjson.null
local function has_common(a, b)
  for _, x in ipairs(a) do for _, y in ipairs(b) do if x == y then return true end end end
  return false
end
local function given(v) return v ~= nil and v ~= cjson_null end
local function contains(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end
-- The country others may see and choose by: none when hidden or unknown.
local function shown_country(t)
  if t.hide_country == true or not given(t.country) then return nil end
  return t.country
end
local function accepts(me, other, now, p)
  local waited = now - me.since
  if #me.interests > 0 and waited < p.iw and not has_common(me.interests, other.interests) then return false end
  if given(me.region) and given(other.region) and me.region ~= other.region and waited < p.rw then return false end
  if given(me.language) and given(other.language) and me.language ~= other.language
     and (p.lw < 0 or waited < p.lw) then return false end
  local countries = me.countries
  if given(countries) and #countries > 0 and (p.cw < 0 or waited < p.cw) then
    local shown = shown_country(other)
    if shown == nil or not contains(countries, shown) then return false end
  end
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
local function compatible(a, b, now, p)
  if a.mode ~= b.mode or a.client_id == b.client_id or a.device_id == b.device_id then return false end
  if not p.same_ip and a.ip_hash == b.ip_hash then return false end
  if not (accepts(a, b, now, p) and accepts(b, a, now, p)) then return false end
  local prefix = p.prefix
  local until_ = redis.call("GET", prefix .. "recent:" .. pairkey(a.device_id, b.device_id))
  if until_ and tonumber(until_) > now then return false end
  return not (avoids(a.device_id, b.device_id, now, prefix) or avoids(b.device_id, a.device_id, now, prefix))
end
-- qc:<mode>:<country> holds the waiting visitors whose country is shown (same scores as
-- q:<mode>), so a newcomer who chose countries walks only people from there.
local function index_key(prefix, t)
  local c = shown_country(t)
  if c == nil then return nil end
  return prefix .. "qc:" .. t.mode .. ":" .. c
end
local function unindex(prefix, t)
  local k = index_key(prefix, t)
  if k then redis.call("ZREM", k, t.client_id) end
end
-- The candidates of a newcomer, oldest first, at most `limit`: the whole queue, or the
-- merged country indexes while its country choice holds.
local function candidates(q, t, now, p, limit)
  local countries = t.countries
  if not (given(countries) and #countries > 0 and (p.cw < 0 or now - t.since < p.cw)) then
    return redis.call("ZRANGE", q, 0, limit - 1)
  end
  local merged = {}
  for _, c in ipairs(countries) do
    local r = redis.call("ZRANGE", p.prefix .. "qc:" .. t.mode .. ":" .. c, 0, limit - 1, "WITHSCORES")
    for i = 1, #r, 2 do merged[#merged + 1] = {tonumber(r[i + 1]), r[i]} end
  end
  if #countries > 1 then
    table.sort(merged, function(x, y) if x[1] ~= y[1] then return x[1] < y[1] end return x[2] < y[2] end)
  end
  local out = {}
  for i = 1, math.min(#merged, limit) do out[i] = merged[i][2] end
  return out
end
