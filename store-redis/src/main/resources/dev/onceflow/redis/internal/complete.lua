-- Batch complete. Per item, KEYS: lease, fence, record, then one key per effect; ARGV: nEffects,
-- nEffectArgs, token, outcome (P|D), hasResult, result, retentionMs, hasFp, fp, hasGuard, guard,
-- then the effects' arguments (code and operands). Replies one value per item: 1 written,
-- 0 lease lost (nothing written), or an error string (an effect cannot be applied; nothing
-- written).

local function isInteger(v)
  return #v <= 20 and string.match(v, '^%-?%d+$') ~= nil
end

-- Checks that every effect can be applied, so that a failure never leaves half the effects.
local function checkEffects(k, a, n)
  local kind = {}
  local ints = {}
  for e = 1, n do
    local key = KEYS[k + e - 1]
    local code = ARGV[a]
    local t = kind[key]
    if t == nil then
      t = redis.call('TYPE', key)['ok']
    end
    local function wrong(expected)
      return t ~= expected and t ~= 'none'
    end
    if code == 'HSET' or code == 'HINCRBY' then
      if wrong('hash') then return 'effect ' .. e .. ' (' .. code .. '): the key holds a ' .. t end
      local id = key .. '\0' .. ARGV[a + 1]
      if code == 'HINCRBY' then
        local ok = ints[id]
        if ok == nil then
          local v = redis.call('HGET', key, ARGV[a + 1])
          ok = (not v) or isInteger(v)
        end
        if not ok then return 'effect ' .. e .. ' (HINCRBY): the field does not hold an integer' end
        ints[id] = true
      else
        ints[id] = isInteger(ARGV[a + 2])
      end
      kind[key] = 'hash'
      a = a + 3
    elseif code == 'SET' then
      kind[key] = 'string'
      ints[key] = isInteger(ARGV[a + 1])
      a = a + 2
    elseif code == 'INCRBY' then
      if wrong('string') then return 'effect ' .. e .. ' (INCRBY): the key holds a ' .. t end
      local ok = ints[key]
      if ok == nil then
        local v = redis.call('GET', key)
        ok = (not v) or isInteger(v)
      end
      if not ok then return 'effect ' .. e .. ' (INCRBY): the value is not an integer' end
      kind[key] = 'string'
      ints[key] = true
      a = a + 2
    elseif code == 'SADD' then
      if wrong('set') then return 'effect ' .. e .. ' (SADD): the key holds a ' .. t end
      kind[key] = 'set'
      a = a + 2
    elseif code == 'XADD' then
      if wrong('stream') then return 'effect ' .. e .. ' (XADD): the key holds a ' .. t end
      kind[key] = 'stream'
      a = a + 2 + 2 * tonumber(ARGV[a + 1])
    else
      return 'effect ' .. e .. ': unknown effect ' .. tostring(code)
    end
  end
  return false
end

local function applyEffects(k, a, n)
  for e = 1, n do
    local key = KEYS[k + e - 1]
    local code = ARGV[a]
    if code == 'HSET' or code == 'HINCRBY' then
      redis.call(code, key, ARGV[a + 1], ARGV[a + 2])
      a = a + 3
    elseif code == 'SET' or code == 'INCRBY' or code == 'SADD' then
      redis.call(code, key, ARGV[a + 1])
      a = a + 2
    else
      local m = tonumber(ARGV[a + 1])
      local args = {key, '*'}
      for j = 1, 2 * m do
        args[#args + 1] = ARGV[a + 1 + j]
      end
      redis.call('XADD', unpack(args))
      a = a + 2 + 2 * m
    end
  end
end

local function complete(k, a)
  local n = tonumber(ARGV[a])
  local v = redis.call('MGET', KEYS[k], KEYS[k + 1], KEYS[k + 2])
  if not owns(v[1], ARGV[a + 2]) then
    return 0
  end
  local e = a + 11
  if n > 0 then
    local err = checkEffects(k + 3, e, n)
    if err then return err end
    applyEffects(k + 3, e, n)
  end
  local f, fx = parseFence(v[2])
  local gv = false
  if v[3] then
    local _o, _f, g = parseRecord(v[3])
    gv = g
  end
  if ARGV[a + 9] == '1' and ((not gv) or cmp(ARGV[a + 10], gv) > 0) then
    gv = ARGV[a + 10]
  end
  local fp = ''
  local fpLen = '-1'
  if ARGV[a + 7] == '1' then
    fp = ARGV[a + 8]
    fpLen = fmt(#fp)
  end
  local result = 'N'
  if ARGV[a + 4] == '1' then
    result = 'R' .. ARGV[a + 5]
  end
  local rx = now + tonumber(ARGV[a + 6])
  redis.call('SET', KEYS[k + 2],
    ARGV[a + 3] .. '|' .. fmt(now) .. '|' .. fmt(f) .. '|' .. (gv or '') .. '|' .. fpLen .. '|'
      .. fp .. result,
    'PXAT', fmt(rx))
  if rx > fx then
    redis.call('SET', KEYS[k + 1], fmt(f) .. ':' .. fmt(rx), 'PXAT', fmt(rx))
  end
  redis.call('DEL', KEYS[k])
  return 1
end

local out = {}
local k = 1
local a = 1
local i = 1
while a <= #ARGV do
  out[i] = complete(k, a)
  k = k + 3 + tonumber(ARGV[a])
  a = a + 11 + tonumber(ARGV[a + 1])
  i = i + 1
end
return out
