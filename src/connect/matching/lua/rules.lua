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
-- The indexes beside q:<mode> (every waiting visitor), all scored like it (the time the
-- visitor started waiting), so any of them walked from its start is oldest first. Each
-- waiting visitor is in one *scope*: the open ("", most visitors) or, for a chooser, the
-- scope of each country it chose. A chooser is a visitor whose country choice never widens
-- (cw < 0): it accepts only people whose shown country it chose, so it is a candidate only
-- for those and stays out of the open scope (a queue whose head is full of choosers costs a
-- newcomer nothing). With a widening policy (cw >= 0) a chooser is open, and the rules skip
-- it while its choice holds. Within a scope, one set of everyone and one per value of each
-- criterion:
--   open:                qo:<mode>, qi:<mode>:<interest>, ql:<mode>:<language|->,
--                        qr:<mode>:<region|->, qc:<mode>:<shown country>
--   chose country <C>:   qh:<mode>:<C>, qhi:<mode>:<C>:<interest>, qhl:..., qhr:..., qhc:...
local function ikey(prefix, scope, kind, mode, value)
  if scope == "" then
    if kind == "a" then return prefix .. "qo:" .. mode end
    return prefix .. "q" .. kind .. ":" .. mode .. ":" .. value
  end
  if kind == "a" then return prefix .. "qh:" .. mode .. ":" .. scope end
  return prefix .. "qh" .. kind .. ":" .. mode .. ":" .. scope .. ":" .. value
end
local function scope_keys(prefix, scope, t)
  local mode = t.mode
  local keys = {ikey(prefix, scope, "a", mode),
                ikey(prefix, scope, "l", mode, given(t.language) and t.language or "-"),
                ikey(prefix, scope, "r", mode, given(t.region) and t.region or "-")}
  if given(t.interests) then
    for _, i in ipairs(t.interests) do keys[#keys + 1] = ikey(prefix, scope, "i", mode, i) end
  end
  local c = shown_country(t)
  if c ~= nil then keys[#keys + 1] = ikey(prefix, scope, "c", mode, c) end
  return keys
end
local function is_chooser(t, p)
  return given(t.countries) and #t.countries > 0 and p.cw < 0
end
local function enqueue(prefix, t, raw, p)
  local cid, since = t.client_id, t.since
  redis.call("SET", prefix .. "t:" .. cid, raw)
  redis.call("ZADD", prefix .. "q:" .. t.mode, since, cid)
  local scopes = {""}
  if is_chooser(t, p) then scopes = t.countries end
  for _, scope in ipairs(scopes) do
    for _, k in ipairs(scope_keys(prefix, scope, t)) do redis.call("ZADD", k, since, cid) end
  end
end
-- Out of every index it may be in (it does not know the policy it was queued under, so the
-- open scope and each chosen country's; ZREM of a non-member is a no-op).
local function unindex(prefix, t)
  local cid = t.client_id
  for _, k in ipairs(scope_keys(prefix, "", t)) do redis.call("ZREM", k, cid) end
  if given(t.countries) then
    for _, scope in ipairs(t.countries) do
      for _, k in ipairs(scope_keys(prefix, scope, t)) do redis.call("ZREM", k, cid) end
    end
  end
end
-- Where a newcomer's partner can be: in the open scope and, when its country is shown, the
-- scope of that country's choosers; in each, the smallest of the unions its own active
-- criteria allow (interests: its interests' sets; language: its language and none; region:
-- its region and none; countries: its chosen countries' sets), or the scope's whole set
-- when none is active. Every compatible waiting visitor is in one of them, so walking them
-- with the rules finds the partner a walk of the whole queue would, at the cost of the
-- smaller sets.
local function sources(t, now, p)
  local waited = now - t.since
  local prefix, mode = p.prefix, t.mode
  local scopes = {""}
  local shown = shown_country(t)
  if shown ~= nil then scopes[2] = shown end
  local out = {}
  for _, scope in ipairs(scopes) do
    local best, best_n = nil, nil
    local function consider(keys)
      local n = 0
      for _, k in ipairs(keys) do n = n + redis.call("ZCARD", k) end
      if best_n == nil or n < best_n then best, best_n = keys, n end
    end
    consider({ikey(prefix, scope, "a", mode)})
    if #t.interests > 0 and waited < p.iw then
      local keys = {}
      for _, i in ipairs(t.interests) do keys[#keys + 1] = ikey(prefix, scope, "i", mode, i) end
      consider(keys)
    end
    if given(t.language) and (p.lw < 0 or waited < p.lw) then
      consider({ikey(prefix, scope, "l", mode, t.language), ikey(prefix, scope, "l", mode, "-")})
    end
    if given(t.region) and waited < p.rw then
      consider({ikey(prefix, scope, "r", mode, t.region), ikey(prefix, scope, "r", mode, "-")})
    end
    local countries = t.countries
    if given(countries) and #countries > 0 and (p.cw < 0 or waited < p.cw) then
      local keys = {}
      for _, c in ipairs(countries) do keys[#keys + 1] = ikey(prefix, scope, "c", mode, c) end
      consider(keys)
    end
    if best_n > 0 then
      for _, k in ipairs(best) do out[#out + 1] = k end
    end
  end
  return out
end
-- A k-way merge of sorted sets read in growing chunks: next() gives (id, key) oldest first
-- (ties by id, as ZRANGE orders them), or nil when all are exhausted; drop(key) tells the
-- cursor of `key` that one id it returned was removed (its later offsets move back).
local function merged(keys)
  local cur = {}
  for _, k in ipairs(keys) do cur[#cur + 1] = {key = k, off = 0, buf = {}, pos = 1, chunk = 8, done = false} end
  local function head(c)
    if c.pos > #c.buf then
      if c.done then return nil end
      local r = redis.call("ZRANGE", c.key, c.off, c.off + c.chunk - 1, "WITHSCORES")
      c.off = c.off + #r / 2
      if #r / 2 < c.chunk then c.done = true end
      c.chunk = math.min(c.chunk * 4, 512)
      c.buf, c.pos = {}, 1
      for i = 1, #r, 2 do c.buf[#c.buf + 1] = {tonumber(r[i + 1]), r[i]} end
      if #c.buf == 0 then return nil end
    end
    return c.buf[c.pos]
  end
  local function next_id()
    local best, bh = nil, nil
    for _, c in ipairs(cur) do
      local h = head(c)
      if h and (bh == nil or h[1] < bh[1] or (h[1] == bh[1] and h[2] < bh[2])) then best, bh = c, h end
    end
    if best == nil then return nil end
    best.pos = best.pos + 1
    return bh[2], best
  end
  local function drop(c) c.off = c.off - 1 end
  return next_id, drop
end
