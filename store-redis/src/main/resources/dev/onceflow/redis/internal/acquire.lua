-- Batch acquire. ARGV[1] is the number S of distinct specs, then S specs of 5 arguments
-- (owner, leaseTtlMs, retentionMs, contiguous 0|1, redrive 0|1), then 5 arguments per item:
-- token, spec number (1-based), fingerprint ('' for none, else '=' .. fp), guard ('' for none),
-- guard - 1. Item i (0-based) uses KEYS[3i+1..3i+3] (lease, fence, record).
-- Replies one array per item:
--   {1, fence, leaseExpiresAt}   ACQUIRED
--   {2, record}                  COMPLETED
--   {3, leaseExpiresAt}          IN_PROGRESS
--   {4, record}                  CONFLICT
local function acquire(l, fk, rk, a)
  local sp = 2 + 5 * (tonumber(ARGV[a + 1]) - 1)
  local fpArg = ARGV[a + 2]
  local g = ARGV[a + 3]
  local v = redis.call('MGET', l, fk, rk)
  local lx = leaseExpiry(v[1])
  local rv = v[3]
  local o, rf, gv, rfp = false, 0, false, false
  if rv then
    o, rf, gv, rfp = parseRecord(rv)
  end
  local conflict = rv and fpArg ~= '' and rfp and rfp ~= string.sub(fpArg, 2)
  local function grant()
    local f, fx = parseFence(v[2])
    if rf > f then f = rf end
    f = f + 1
    local ttl = tonumber(ARGV[sp + 1])
    local x = now + ttl
    -- keep the fence a lease longer than asked, so that a completion within the lease does not
    -- have to move its expiry again
    local keep = now + tonumber(ARGV[sp + 2]) + ttl
    if keep < fx then keep = fx end
    redis.call('SET', fk, fmt(f) .. ':' .. fmt(keep), 'PXAT', fmt(keep))
    redis.call('SET', l, fmt(x) .. ':' .. ARGV[a] .. ':' .. ARGV[sp], 'PXAT', fmt(x))
    return {1, f, x}
  end
  if g ~= '' then
    if gv and cmp(g, gv) <= 0 then
      if g == gv and conflict and not lx then
        return {4, rv}
      end
      return {2, rv}
    end
    if lx then return {3, lx} end
    if ARGV[sp + 3] == '1' and gv and cmp(gv, ARGV[a + 4]) < 0 then
      return {3, now}
    end
    return grant()
  end
  if lx then return {3, lx} end
  if rv then
    if conflict then
      return {4, rv}
    end
    if not (ARGV[sp + 4] == '1' and o == 'D') then
      return {2, rv}
    end
  end
  return grant()
end

local out = {}
local base = 2 + 5 * tonumber(ARGV[1])
for i = 0, #KEYS / 3 - 1 do
  out[i + 1] = acquire(KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3], base + 5 * i)
end
return out
