-- onceflow Redis store: helpers shared by every script (prepended to each one).
-- Per message key, three keys in one hash slot:
--   <prefix>:<ns>:{<key>}:l  lease   "<expiresAtMs>:<token>:<owner>", PXAT expiresAtMs
--   <prefix>:<ns>:{<key>}:f  fence   "<fence>:<keepUntilMs>", PXAT keepUntilMs
--   <prefix>:<ns>:{<key>}:r  record  "<o>|<completedAtMs>|<fence>|<guard>|<fpLen>|<fp><R result|N>",
--                                    PXAT the record's retention; o is P(rocessed) or D(ead-lettered),
--                                    guard is empty when none, fpLen is -1 when no fingerprint.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function fmt(n)
  return string.format('%d', n)
end

-- Compares two canonical decimal strings of Java longs without losing precision.
local function cmp(a, b)
  if a == b then return 0 end
  local na = string.sub(a, 1, 1) == '-'
  local nb = string.sub(b, 1, 1) == '-'
  if na ~= nb then
    if na then return -1 else return 1 end
  end
  local r
  if #a ~= #b then
    if #a < #b then r = -1 else r = 1 end
  else
    if a < b then r = -1 else r = 1 end
  end
  if na then return -r end
  return r
end

-- The expiry of the live lease held in value lv (false when none or expired).
local function leaseExpiry(lv)
  if not lv then return false end
  local i = string.find(lv, ':', 1, true)
  local x = tonumber(string.sub(lv, 1, i - 1))
  if x > now then return x end
  return false
end

-- True when lease value lv is live and held by token tk.
local function owns(lv, tk)
  if not lv then return false end
  local i = string.find(lv, ':', 1, true)
  if tonumber(string.sub(lv, 1, i - 1)) <= now then return false end
  return string.sub(lv, i + 1, i + #tk) == tk and string.sub(lv, i + #tk + 1, i + #tk + 1) == ':'
end

-- fence, keepUntil of fence value fv (0, 0 when none).
local function parseFence(fv)
  if not fv then return 0, 0 end
  local i = string.find(fv, ':', 1, true)
  return tonumber(string.sub(fv, 1, i - 1)), tonumber(string.sub(fv, i + 1))
end

-- outcome, fence, guard (or false), fingerprint (or false) of record value rv.
local function parseRecord(rv)
  local p2 = string.find(rv, '|', 3, true)
  local p3 = string.find(rv, '|', p2 + 1, true)
  local p4 = string.find(rv, '|', p3 + 1, true)
  local p5 = string.find(rv, '|', p4 + 1, true)
  local g = false
  if p4 > p3 + 1 then g = string.sub(rv, p3 + 1, p4 - 1) end
  local n = tonumber(string.sub(rv, p4 + 1, p5 - 1))
  local fp = false
  if n >= 0 then fp = string.sub(rv, p5 + 1, p5 + n) end
  return string.sub(rv, 1, 1), tonumber(string.sub(rv, p2 + 1, p3 - 1)), g, fp
end
