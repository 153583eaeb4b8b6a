-- onceflow Redis store: every operation of a batch, run atomically by one call, either FCALL of
-- a Redis 7 function (the library is loaded once) or EVALSHA of the same code (Redis 6.2).
--
-- One key per message holds its fence, its lease and its record, packed with struct (the
-- layout RecordFormat.java decodes):
--   B version (1) | I6 fence | I6 keep | I6 leaseExpiresAt | I6 recordExpiresAt | I6 completedAt
--   | I6 recordFence | B outcome (0, 'P' or 'D') | B hasFingerprint | B hasResult
--   | I1+bytes token | I1+bytes guard value | I1+bytes gap | I4+bytes fingerprint | I4+bytes result
-- Times are milliseconds on the server's clock (TIME). The key expires at 'keep' (PXAT), which
-- only grows: at least retention + lease after every grant, and at least the record's and the
-- lease's expiry. So the fence outlives every lease and record of the key. A lease or a record
-- whose time has come counts as absent (0 and '') and is dropped by the next write.
--
-- ARGV is a sequence of operations, each its code and operands; KEYS are consumed in order, one
-- per operation plus one per effect of a completion:
--   a token leaseMs keepMs                       acquire, no fingerprint, guard or redrive
--   A token leaseMs keepMs retentionMs flags fp guard first gapMs
--                                                acquire; flags: f fingerprint, g guard,
--                                                c contiguous, t gap timeout, r redrive
--   c token retentionMs outcome result           complete with a result, nothing else
--   k token retentionMs outcome                  complete without a result, nothing else
--   C token retentionMs outcome flags fp result guard nEffects nEffectArgs effectArgs...
--                                                complete; flags: f fingerprint, r result, g guard
--   r token                                      release
--   e token ttlMs                                extend
--   f                                            find the record
-- Replies one value per operation:
--   acquire  {1, fence, leaseExpiresAt, skipped} | {2, value} completed | {3, expiresAt} in
--            progress | {4, value} conflict | {5, fence, now, guardValue} completed, no record
--   complete 1 written | 0 lease lost | an error text (an effect cannot apply; nothing written)
--   release, extend  1 done | 0 lease lost;  find  the value | 0 none

local F = '>BI6I6I6I6I6I6BBBI1c0I1c0I1c0I4c0I4c0'
local HEAD = '>BI6I6I6I6'
local NXGET = __NXGET__
local B = 1000000000
local D = 68
-- Libraries are bound when the batch runs: a function library sees only part of them at load.
local floor, tonumber, tostring, unpack, sub, byte, find, format
local call, spack, sunpack
local now = 0

-- Compares two canonical decimal strings of Java longs without losing precision.
local function cmp(a, b)
  if a == b then return 0 end
  local na = byte(a, 1) == 45
  local nb = byte(b, 1) == 45
  if na ~= nb then
    if na then return -1 else return 1 end
  end
  local r
  if #a ~= #b then
    if #a < #b then r = -1 else r = 1 end
  elseif a < b then r = -1 else r = 1 end
  if na then return -r end
  return r
end

-- A Redis integer (as INCRBY parses it) as hi, lo: value = hi * 1e9 + lo, one sign, |lo| < 1e9,
-- both exact in doubles; nil when the text is not a signed 64-bit integer.
local function i64(s)
  local n = #s
  if n == 0 or n > 20 then return nil end
  if s == '0' then return 0, 0 end
  local neg = byte(s, 1) == 45
  local d = s
  if neg then d = sub(s, 2) end
  local m = #d
  if m == 0 or m > 19 or not find(d, '^[1-9]%d*$') then return nil end
  if m == 19 and d > (neg and '9223372036854775808' or '9223372036854775807') then return nil end
  local hi, lo = 0, 0
  if m > 9 then
    hi = tonumber(sub(d, 1, m - 9))
    lo = tonumber(sub(d, m - 8))
  else
    lo = tonumber(d)
  end
  if neg then return -hi, -lo end
  return hi, lo
end

local function add(h1, l1, h2, l2)
  local h, l = h1 + h2, l1 + l2
  if l >= B then h = h + 1; l = l - B elseif l <= -B then h = h - 1; l = l + B end
  if h > 0 and l < 0 then h = h - 1; l = l + B elseif h < 0 and l > 0 then h = h + 1; l = l - B end
  return h, l
end

local function inRange(h, l)
  if h > 9223372036 or (h == 9223372036 and l > 854775807) then return false end
  if h < -9223372036 or (h == -9223372036 and l < -854775808) then return false end
  return true
end

local function fmt64(h, l)
  if h == 0 then return format('%d', l) end
  if h < 0 or l < 0 then return '-' .. format('%d%09d', -h, -l) end
  return format('%d%09d', h, l)
end

local function inc(s)
  local h, l = i64(s)
  h, l = add(h, l, 0, 1)
  return fmt64(h, l)
end

local function diff(a, b)
  local h1, l1 = i64(a)
  local h2, l2 = i64(b)
  return (h1 - h2) * B + (l1 - l2)
end

-- ------------------------------------------------------------------ the key's state

local function pack(fence, keep, lx, rx, cat, rf, o, hf, hr, tok, gv, gap, fp, res)
  return spack(F, 1, fence, keep, lx, rx, cat, rf, o, hf, hr, #tok, tok, #gv, gv, #gap, gap,
    #fp, fp, #res, res)
end

-- The state of a key (v is its value or nil), with an expired lease or record dropped.
local function load(v)
  local s = {v = v}
  if v then
    local _
    _, s.fence, s.keep, s.lx, s.rx, s.cat, s.rf, s.o, s.hf, s.hr, s.tok, s.gv, s.gap, s.fp, s.res =
      sunpack(F, v)
  else
    s.fence, s.keep, s.lx, s.rx, s.cat, s.rf, s.o, s.hf, s.hr = 0, 0, 0, 0, 0, 0, 0, 0, 0
    s.tok, s.gv, s.gap, s.fp, s.res = '', '', '', '', ''
  end
  if s.lx <= now then s.lx = 0; s.tok = '' end
  if s.rx <= now then
    s.rx = 0; s.o = 0; s.hf = 0; s.hr = 0; s.fp = ''; s.res = ''; s.gv = ''
  end
  return s
end

local function save(k, s, keep)
  if keep > s.keep then s.keep = keep end
  call('SET', k, pack(s.fence, s.keep, s.lx, s.rx, s.cat, s.rf, s.o, s.hf, s.hr, s.tok, s.gv,
    s.gap, s.fp, s.res), 'PXAT', s.keep)
end

-- ------------------------------------------------------------------ acquire

local function grant(k, s, tok, leaseMs, keepMs, skipped)
  s.fence = s.fence + 1
  s.tok = tok
  s.lx = now + leaseMs
  save(k, s, now + keepMs)
  return {1, s.fence, s.lx, skipped}
end

local function conflicts(s, hasFp, fp)
  return hasFp and s.hf == 1 and s.fp ~= fp
end

local function plain(k, s, tok, leaseMs, keepMs, hasFp, fp, redrive)
  if s.lx > 0 then return {3, s.lx} end
  if s.rx > 0 then
    if conflicts(s, hasFp, fp) then return {4, s.v} end
    if not (redrive and s.o == D) then return {2, s.v} end
  end
  return grant(k, s, tok, leaseMs, keepMs, 0)
end

-- A number beyond the next one of a contiguous guard: it waits, unless the gap outlived its
-- timeout and it is the lowest number waiting (a lowest number that stopped coming back gives
-- way after another timeout).
local function gap(k, s, r, nxt)
  if not r.gapMs then return {3, now} end
  local since, seen, wmin = false, false, false
  if s.gap ~= '' then
    local i = find(s.gap, ',', 1, true)
    local j = find(s.gap, ',', i + 1, true)
    since = tonumber(sub(s.gap, 1, i - 1))
    seen = tonumber(sub(s.gap, i + 1, j - 1))
    wmin = sub(s.gap, j + 1)
    if since == 0 then since = false end
    if seen == 0 then seen = false end
  end
  if not since then since = now end
  if (not seen) or cmp(r.g, wmin) < 0 or now >= seen + r.gapMs then wmin = r.g end
  if r.g == wmin then seen = now end
  s.gap = format('%d,%d,%s', since, seen or 0, wmin)
  local skipAt = since + r.gapMs
  if now >= skipAt and r.g == wmin then
    return grant(k, s, r.tok, r.leaseMs, r.keepMs, diff(r.g, nxt))
  end
  save(k, s, now + r.retMs)
  if now < skipAt then return {3, skipAt} end
  return {3, now}
end

local function guarded(k, s, r)
  local g = r.g
  if s.gv ~= '' and cmp(g, s.gv) <= 0 then
    if g == s.gv and s.rx > 0 and s.lx == 0 then
      if r.redrive and s.o == D then return grant(k, s, r.tok, r.leaseMs, r.keepMs, 0) end
      if conflicts(s, r.hasFp, r.fp) then return {4, s.v} end
    end
    if s.rx > 0 then return {2, s.v} end
    return {5, s.fence, now, s.gv}
  end
  if s.lx > 0 then return {3, s.lx} end
  if not r.contiguous then return grant(k, s, r.tok, r.leaseMs, r.keepMs, 0) end
  local nxt = r.first
  if s.gv ~= '' then nxt = inc(s.gv) end
  local c = cmp(g, nxt)
  if c < 0 then return {5, s.fence, now, s.gv} end
  if c == 0 then return grant(k, s, r.tok, r.leaseMs, r.keepMs, 0) end
  return gap(k, s, r, nxt)
end

local function acquirePlain(k, tok, leaseMs, keepMs)
  local v
  if NXGET then
    local x, keep = now + leaseMs, now + keepMs
    v = call('SET', k, spack(F, 1, 1, keep, x, 0, 0, 0, 0, 0, 0, #tok, tok, 0, '', 0, '', 0, '',
      0, ''), 'NX', 'GET', 'PXAT', keep)
    if not v then return {1, 1, x, 0} end
  else
    v = call('GET', k)
  end
  return plain(k, load(v), tok, leaseMs, keepMs, false, '', false)
end

local function acquireFull(k, args, a)
  local flags = args[a + 5]
  local r = {
    tok = args[a + 1],
    leaseMs = tonumber(args[a + 2]),
    keepMs = tonumber(args[a + 3]),
    retMs = tonumber(args[a + 4]),
    hasFp = find(flags, 'f', 1, true) ~= nil,
    fp = args[a + 6],
    g = args[a + 7],
    contiguous = find(flags, 'c', 1, true) ~= nil,
    first = args[a + 8],
    gapMs = find(flags, 't', 1, true) ~= nil and tonumber(args[a + 9]),
    redrive = find(flags, 'r', 1, true) ~= nil
  }
  local s = load(call('GET', k))
  if find(flags, 'g', 1, true) then return guarded(k, s, r) end
  return plain(k, s, r.tok, r.leaseMs, r.keepMs, r.hasFp, r.fp, r.redrive)
end

-- ------------------------------------------------------------------ effects

local WANT = {HSET = 'hash', HINCRBY = 'hash', SET = 'string', INCRBY = 'string', SADD = 'set',
  XADD = 'stream'}

local function stageText(ih, il, id, text)
  local h, l = i64(text)
  if h == nil then ih[id] = false else ih[id] = h; il[id] = l end
end

-- Checks every effect against the data and the effects before it (key types, integers,
-- overflow), so that either all of them and the record are written or nothing is.
local function checkEffects(keys, ki, args, a, n)
  local types, ih, il = {}, {}, {}
  for e = 1, n do
    local key = keys[ki + e - 1]
    local code = args[a]
    local want = WANT[code]
    if not want then return 'effect ' .. e .. ': unknown effect ' .. tostring(code) end
    local t = types[key]
    if t == nil then t = call('TYPE', key)['ok'] end
    if t ~= 'none' and t ~= want then
      return 'effect ' .. e .. ' (' .. code .. ') cannot apply: the key holds a ' .. t
    end
    types[key] = want
    if code == 'HINCRBY' or code == 'INCRBY' then
      local id, delta = key, args[a + 1]
      if code == 'HINCRBY' then id = key .. '\0' .. args[a + 1]; delta = args[a + 2] end
      local h, l = ih[id], il[id]
      if h == nil then
        local cur
        if code == 'HINCRBY' then cur = call('HGET', key, args[a + 1]) else cur = call('GET', key) end
        if cur then h, l = i64(cur) else h, l = 0, 0 end
      end
      if not h then
        return 'effect ' .. e .. ' (' .. code .. ') cannot apply: the value is not an integer'
      end
      local dh, dl = i64(delta)
      h, l = add(h, l, dh, dl)
      if not inRange(h, l) then
        return 'effect ' .. e .. ' (' .. code .. ') cannot apply: increment or decrement would'
          .. ' overflow'
      end
      ih[id], il[id] = h, l
    elseif code == 'HSET' then
      stageText(ih, il, key .. '\0' .. args[a + 1], args[a + 2])
    elseif code == 'SET' then
      stageText(ih, il, key, args[a + 1])
    end
    if code == 'HSET' or code == 'HINCRBY' then
      a = a + 3
    elseif code == 'XADD' then
      a = a + 2 + 2 * tonumber(args[a + 1])
    else
      a = a + 2
    end
  end
  return false
end

local function applyEffects(keys, ki, args, a, n)
  for e = 1, n do
    local key = keys[ki + e - 1]
    local code = args[a]
    if code == 'HSET' or code == 'HINCRBY' then
      call(code, key, args[a + 1], args[a + 2])
      a = a + 3
    elseif code == 'XADD' then
      local m = tonumber(args[a + 1])
      local xa = {key, '*'}
      for j = 1, 2 * m do xa[j + 2] = args[a + 1 + j] end
      call('XADD', unpack(xa))
      a = a + 2 + 2 * m
    else
      call(code, key, args[a + 1])
      a = a + 2
    end
  end
end

-- ------------------------------------------------------------------ complete, release, extend

local function completeFast(k, tok, retMs, o, hr, res)
  local v = call('GET', k)
  if not v then return 0 end
  local _, fence, keep, lx, rx, _, _, _, _, _, otok, gv, gp = sunpack(F, v)
  if lx <= now or otok ~= tok then return 0 end
  if rx <= now then gv = '' end
  local rxn = now + retMs
  if rxn > keep then keep = rxn end
  call('SET', k, spack(F, 1, fence, keep, 0, rxn, now, fence, o, 0, hr, 0, '', #gv, gv, #gp, gp,
    0, '', #res, res), 'PXAT', keep)
  return 1
end

local function completeFull(keys, ki, args, a)
  local k = keys[ki]
  local s = load(call('GET', k))
  if s.lx == 0 or s.tok ~= args[a + 1] then return 0 end
  local n = tonumber(args[a + 8])
  if n > 0 then
    local err = checkEffects(keys, ki + 1, args, a + 10, n)
    if err then return err end
    applyEffects(keys, ki + 1, args, a + 10, n)
  end
  local flags = args[a + 4]
  if find(flags, 'g', 1, true) then
    local g = args[a + 7]
    if s.gv == '' or cmp(g, s.gv) > 0 then s.gv = g end
    s.gap = ''
  end
  s.o = byte(args[a + 3])
  s.cat = now
  s.rf = s.fence
  s.rx = now + tonumber(args[a + 2])
  s.hf = 0
  s.fp = ''
  if find(flags, 'f', 1, true) then s.hf = 1; s.fp = args[a + 5] end
  s.hr = 0
  s.res = ''
  if find(flags, 'r', 1, true) then s.hr = 1; s.res = args[a + 6] end
  s.lx = 0
  s.tok = ''
  save(k, s, s.rx)
  return 1
end

local function release(k, tok)
  local v = call('GET', k)
  if not v then return 0 end
  local _, fence, keep, lx, rx, cat, rf, o, hf, hr, otok, gv, gp, fp, res = sunpack(F, v)
  if lx <= now or otok ~= tok then return 0 end
  call('SET', k, pack(fence, keep, 0, rx, cat, rf, o, hf, hr, '', gv, gp, fp, res), 'KEEPTTL')
  return 1
end

local function extend(k, tok, ttl)
  local v = call('GET', k)
  if not v then return 0 end
  local _, fence, keep, lx, rx, cat, rf, o, hf, hr, otok, gv, gp, fp, res = sunpack(F, v)
  if lx <= now or otok ~= tok then return 0 end
  lx = now + ttl
  if lx > keep then keep = lx end
  call('SET', k, pack(fence, keep, lx, rx, cat, rf, o, hf, hr, otok, gv, gp, fp, res), 'PXAT', keep)
  return 1
end

local function findRecord(k)
  local v = call('GET', k)
  if not v then return 0 end
  local _, _, _, _, rx = sunpack(HEAD, v)
  if rx <= now then return 0 end
  return v
end

-- ------------------------------------------------------------------ the batch

-- How many keys and arguments the operation at args[a] takes.
local function width(op, args, a)
  if op == 'a' or op == 'k' then return 1, 4 end
  if op == 'c' then return 1, 5 end
  if op == 'A' then return 1, 10 end
  if op == 'C' then return 1 + tonumber(args[a + 8]), 10 + tonumber(args[a + 9]) end
  if op == 'r' then return 1, 2 end
  if op == 'e' then return 1, 3 end
  if op == 'f' then return 1, 1 end
  return nil
end

local function exec(op, keys, ki, args, a)
  if op == 'a' then
    return acquirePlain(keys[ki], args[a + 1], tonumber(args[a + 2]), tonumber(args[a + 3]))
  elseif op == 'c' then
    return completeFast(keys[ki], args[a + 1], tonumber(args[a + 2]), byte(args[a + 3]), 1,
      args[a + 4])
  elseif op == 'k' then
    return completeFast(keys[ki], args[a + 1], tonumber(args[a + 2]), byte(args[a + 3]), 0, '')
  elseif op == 'A' then
    return acquireFull(keys[ki], args, a)
  elseif op == 'C' then
    return completeFull(keys, ki, args, a)
  elseif op == 'r' then
    return release(keys[ki], args[a + 1])
  elseif op == 'e' then
    return extend(keys[ki], args[a + 1], tonumber(args[a + 2]))
  end
  return findRecord(keys[ki])
end

-- With args[1] == '@' the keys travel in ARGV (args[2] of them, from args[3]): a Cluster batch
-- of one node's keys of several slots. Each operation then runs protected: one whose keys are not
-- served here answers {-1, why} before it wrote anything, and the client sends it again alone.
local function ops(keys, args)
  call, spack, sunpack = redis.call, struct.pack, struct.unpack
  floor, tonumber, tostring, unpack = math.floor, _G.tonumber, _G.tostring, _G.unpack
  sub, byte, find, format = string.sub, string.byte, string.find, string.format
  local t = call('TIME')
  now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
  local ki, a, protect = 1, 1, false
  if args[1] == '@' then
    keys = args
    ki = 3
    a = 3 + tonumber(args[2])
    protect = true
  end
  local out, i, n = {}, 0, #args
  while a <= n do
    local op = args[a]
    local nk, na = width(op, args, a)
    if not nk then return redis.error_reply('onceflow: unknown operation ' .. tostring(op)) end
    i = i + 1
    if protect then
      local ok, r = pcall(exec, op, keys, ki, args, a)
      if ok then
        out[i] = r
      elseif type(r) == 'table' and r.err then
        out[i] = {-1, r.err}
      else
        out[i] = {-1, tostring(r)}
      end
    else
      out[i] = exec(op, keys, ki, args, a)
    end
    ki = ki + nk
    a = a + na
  end
  return out
end
