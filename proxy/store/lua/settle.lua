-- ARGV: rid, cost_usd, used_tokens, n_buckets, then per token bucket: field, capacity, period_ms
-- Returns 1 when this call closed the reservation, 0 when it was already closed (settled or expired) or unknown.
local rid = ARGV[1]
local cost = tonumber(ARGV[2])
local used = tonumber(ARGV[3])
local nb = tonumber(ARGV[4])

local now = now_ms()
sweep(now)

local rec = redis.call('HGET', KEYS[2], rid)
if not rec then
  return 0
end
local r = rec_parse(rec)
rec_close(rid, r, cost, now)

-- refund what was reserved but not used (or take an overrun: the bucket may go into debt)
local delta = r.tok - used
if delta ~= 0 then
  for i = 1, nb do
    local b = 4 + (i - 1) * 3
    local field, cap, period = ARGV[b + 1], tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
    local level = bucket_level(field, cap, period, now) + delta * period
    if level > cap * period then
      level = cap * period
    end
    bucket_store(field, level, now)
  end
end
return 1
