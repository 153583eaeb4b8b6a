-- KEYS: lease, fence. ARGV: token, ttlMs. Replies the new expiry (ms), or 0 when the lease was
-- not current. The fence is kept at least as long as the lease.
local v = redis.call('MGET', KEYS[1], KEYS[2])
local lv = v[1]
if not owns(lv, ARGV[1]) then
  return 0
end
local i = string.find(lv, ':', 1, true)
local x = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], fmt(x) .. string.sub(lv, i), 'PXAT', fmt(x))
local f, fx = parseFence(v[2])
if x > fx then
  redis.call('SET', KEYS[2], fmt(f) .. ':' .. fmt(x), 'PXAT', fmt(x))
end
return x
