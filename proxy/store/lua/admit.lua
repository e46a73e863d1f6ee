-- ARGV: rid, lease_ms, stream(0|1), max_concurrent(0 = none), prompt_tokens, want_out, p_in, p_out,
--       tenant_cap(-1 = none), tenant_slot_ms, key_cap(-1 = none), key_slot_ms, clamp(0|1), key_id,
--       n_buckets, then per bucket: field, capacity, period_ms, kind(0 requests | 1 tokens)
-- Returns {code, retry_ms, max_out, reserved_usd, failed_bucket_index, then per bucket: remaining, reset_ms}
-- code: 0 ok, 1 rate, 2 concurrency, 3 budget (tenant), 4 budget (key), 5 too large for a token bucket
local rid = ARGV[1]
local lease = tonumber(ARGV[2])
local stream = tonumber(ARGV[3])
local conc_limit = tonumber(ARGV[4])
local prompt = tonumber(ARGV[5])
local want = tonumber(ARGV[6])
local p_in = tonumber(ARGV[7])
local p_out = tonumber(ARGV[8])
local tcap = tonumber(ARGV[9])
local tslot = tonumber(ARGV[10])
local kcap = tonumber(ARGV[11])
local kslot = tonumber(ARGV[12])
local clamp = tonumber(ARGV[13])
local key = ARGV[14]
local nb = tonumber(ARGV[15])

local now = now_ms()
sweep(now)

local buckets = {}
for i = 1, nb do
  local b = 15 + (i - 1) * 4
  buckets[i] = {
    field = ARGV[b + 1], cap = tonumber(ARGV[b + 2]), period = tonumber(ARGV[b + 3]), kind = tonumber(ARGV[b + 4]),
  }
  buckets[i].level = bucket_level(buckets[i].field, buckets[i].cap, buckets[i].period, now)
end

local function reply(code, retry, max_out, usd, failed)
  local out = {code, retry, max_out, usd, failed}
  for i = 1, nb do
    local rem, reset = bucket_view(buckets[i].level, buckets[i].cap, buckets[i].period)
    out[#out + 1] = rem
    out[#out + 1] = reset
  end
  return out
end

-- a retried call (the reply was lost) returns the reservation it already made
local existing = redis.call('HGET', KEYS[2], rid)
if existing then
  local r = rec_parse(existing)
  return reply(0, 0, r.maxout, r.usd, 0)
end

-- cost(out) = ceil((prompt*p_in + out*p_out) / 1e6); the largest out with cost(out) <= avail, or -1
local pu = prompt * p_in
local function affordable(avail)
  local pq = math.floor(pu / 1000000)
  local pr = pu - pq * 1000000
  local a = avail - pq
  if a < 0 or (a == 0 and pr > 0) then
    return -1
  end
  if p_out == 0 then
    return want
  end
  -- floor((a*1e6 - pr) / p_out) without forming a*1e6, which could pass 2^53
  local k = math.floor(a / p_out)
  local out = k * 1000000 + math.floor(((a - k * p_out) * 1000000 - pr) / p_out)
  if out < 0 then
    return -1
  end
  return out
end

local max_out = want
local function check_budget(ring, slot_ms, cap, open_field, code)
  if cap < 0 then
    return nil
  end
  local sum, oldest = spent(ring, slot_ms, now)
  local fit = affordable(cap - sum - counter(open_field))
  if fit >= max_out then
    return nil
  end
  if clamp == 1 and fit >= 1 then
    max_out = fit
    return nil
  end
  local retry = 0
  if oldest ~= nil then
    retry = (oldest + N + 1) * slot_ms - now
  end
  return reply(code, retry, 0, 0, 0)
end

local refused = check_budget(KEYS[5], tslot, tcap, 'open', 3)
if refused then
  return refused
end
refused = check_budget(KEYS[6], kslot, kcap, 'open:k:' .. key, 4)
if refused then
  return refused
end

local tokens = prompt + max_out
local worst, worst_wait = 0, -1
for i = 1, nb do
  local b = buckets[i]
  local cost = 1
  if b.kind == 1 then
    cost = tokens
  end
  if cost > b.cap then
    return reply(5, 0, 0, 0, i)
  end
  b.cost = cost * b.period
  if b.level < b.cost then
    local wait = math.ceil((b.cost - b.level) / b.cap)
    if wait > worst_wait then
      worst, worst_wait = i, wait
    end
  end
end
if worst > 0 then
  return reply(1, worst_wait, 0, 0, worst)
end

if stream == 1 and conc_limit > 0 and counter('conc') >= conc_limit then
  return reply(2, 0, 0, 0, 0)
end

-- everything fits: take it all
local usd = math.ceil((pu + max_out * p_out) / 1000000)
local period_max = 0
for i = 1, nb do
  local b = buckets[i]
  b.level = b.level - b.cost
  bucket_store(b.field, b.level, now)
  if b.period > period_max then
    period_max = b.period
  end
end
if period_max > 0 then
  -- an idle tenant's buckets are full after one period anyway
  redis.call('PEXPIRE', KEYS[1], period_max * 2)
end
local key_slot = 0
if kcap >= 0 then
  key_slot = kslot
  redis.call('HINCRBY', KEYS[4], 'open:k:' .. key, fmt(usd))
end
redis.call('HSET', KEYS[2], rid,
  fmt(usd) .. ':' .. fmt(tokens) .. ':' .. fmt(stream) .. ':' .. fmt(tslot) .. ':' .. fmt(key_slot) .. ':'
  .. fmt(max_out) .. ':' .. key)
redis.call('ZADD', KEYS[3], fmt(now + lease), rid)
redis.call('HINCRBY', KEYS[4], 'open', fmt(usd))
if stream == 1 then
  redis.call('HINCRBY', KEYS[4], 'conc', '1')
end
return reply(0, 0, max_out, usd, 0)
