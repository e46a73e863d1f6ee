-- ARGV: tenant_slot_ms, n_buckets, then per bucket: field, capacity, period_ms
-- Returns {spent, open, open_reservations, concurrent_streams, charged_total, expired, then per bucket:
--          remaining, reset_ms}
local tslot = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])

local now = now_ms()
sweep(now)

local sum = spent(KEYS[5], tslot, now)
local out = {
  sum, counter('open'), redis.call('HLEN', KEYS[2]), counter('conc'), counter('charged'), counter('expired'),
}
for i = 1, nb do
  local b = 2 + (i - 1) * 3
  local cap, period = tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local rem, reset = bucket_view(bucket_level(ARGV[b + 1], cap, period, now), cap, period)
  out[#out + 1] = rem
  out[#out + 1] = reset
end
return out
