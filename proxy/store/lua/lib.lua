-- Shared helpers. KEYS layout for every script (all in the tenant's slot):
--   1 bucket levels (hash: <field>:l = level in units, <field>:t = last refill ms)
--   2 open reservations (hash: rid -> record)
--   3 reservation leases (zset: rid scored by expiry ms)
--   4 counters (hash: open, open:k:<key>, conc, charged, expired)
--   5 tenant spend ring (hash: ring index -> "<subwindow>:<micro-usd>")
--   6 this key's spend ring (KEYS[5] .. ':k:' .. key)
-- Bucket levels are integers in units of token*ms: one token costs period_ms units and every elapsed ms adds
-- capacity units, so refill is exact integer arithmetic (whole 1 ms intervals, no float drift).
-- Numbers stay far below 2^53; fmt() writes them without exponent notation.
local N = 60

local function fmt(x)
  return string.format('%d', x)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function bucket_level(field, capacity, period, now)
  local v = redis.call('HMGET', KEYS[1], field .. ':l', field .. ':t')
  local full = capacity * period
  if not v[1] then
    return full
  end
  local level = tonumber(v[1])
  local elapsed = now - tonumber(v[2])
  if elapsed > 0 then
    level = level + elapsed * capacity
  end
  if level > full then
    level = full
  end
  return level
end

local function bucket_store(field, level, now)
  redis.call('HSET', KEYS[1], field .. ':l', fmt(level), field .. ':t', fmt(now))
end

-- remaining whole units, ms until full
local function bucket_view(level, capacity, period)
  local full = capacity * period
  return math.floor(level / period), math.ceil((full - level) / capacity)
end

local function ring_parse(v)
  local s, a = string.match(v, '^(%-?%d+):(%-?%d+)$')
  return tonumber(s), tonumber(a)
end

-- sum of the newest N+1 sub-windows and the oldest sub-window holding spend
local function spent(ring, slot_ms, now)
  local cur = math.floor(now / slot_ms)
  local all = redis.call('HGETALL', ring)
  local sum, oldest = 0, nil
  for i = 2, #all, 2 do
    local s, a = ring_parse(all[i])
    -- sub-windows "from the future" (a failover to a node whose clock lags) still count: never under-count
    if s >= cur - N and a > 0 then
      sum = sum + a
      if oldest == nil or s < oldest then
        oldest = s
      end
    end
  end
  return sum, oldest
end

local function charge(ring, slot_ms, amount, now)
  if amount <= 0 or slot_ms <= 0 then
    return
  end
  local slot = math.floor(now / slot_ms)
  local f = fmt(slot % (N + 1))
  local prev = 0
  local v = redis.call('HGET', ring, f)
  if v then
    local s, a = ring_parse(v)
    if s == slot then
      prev = a
    end
  end
  redis.call('HSET', ring, f, fmt(slot) .. ':' .. fmt(prev + amount))
  redis.call('PEXPIRE', ring, slot_ms * (N + 2))
end

-- record: usd:tokens:stream:tenant_slot_ms:key_slot_ms:max_out:key_id
local function rec_parse(rec)
  local usd, tok, st, ts, ks, mo, key = string.match(rec, '^(%d+):(%d+):(%d):(%d+):(%d+):(%d+):(.*)$')
  return {
    usd = tonumber(usd), tok = tonumber(tok), stream = tonumber(st), tslot = tonumber(ts),
    kslot = tonumber(ks), maxout = tonumber(mo), key = key,
  }
end

local function rec_close(rid, r, cost, now)
  redis.call('HDEL', KEYS[2], rid)
  redis.call('ZREM', KEYS[3], rid)
  redis.call('HINCRBY', KEYS[4], 'open', fmt(-r.usd))
  redis.call('HINCRBY', KEYS[4], 'charged', fmt(cost))
  if r.stream == 1 then
    redis.call('HINCRBY', KEYS[4], 'conc', '-1')
  end
  charge(KEYS[5], r.tslot, cost, now)
  if r.kslot > 0 then
    redis.call('HINCRBY', KEYS[4], 'open:k:' .. r.key, fmt(-r.usd))
    charge(KEYS[5] .. ':k:' .. r.key, r.kslot, cost, now)
  end
end

-- close reservations whose lease expired, charging them in full (a crashed replica over-counts, never overspends)
local function sweep(now)
  local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', fmt(now), 'LIMIT', 0, 64)
  for _, rid in ipairs(ids) do
    local rec = redis.call('HGET', KEYS[2], rid)
    if rec then
      local r = rec_parse(rec)
      rec_close(rid, r, r.usd, now)
      redis.call('HINCRBY', KEYS[4], 'expired', '1')
    else
      redis.call('ZREM', KEYS[3], rid)
    end
  end
end

local function counter(field)
  return tonumber(redis.call('HGET', KEYS[4], field) or '0')
end
