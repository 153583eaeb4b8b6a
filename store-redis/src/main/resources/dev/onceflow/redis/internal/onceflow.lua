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
--   c token retentionMs result                   complete PROCESSED with a result, nothing else
--   k token retentionMs                          complete PROCESSED without a result, nothing else
--   C token retentionMs outcome flags fp result guard nEffects nEffectArgs effectArgs...
--                                                complete; flags: f fingerprint, r result, g guard
--   r token                                      release
--   e token ttlMs                                extend
--   f                                            find the record
-- Replies the server time (ms), then one value per operation:
--   acquire  fence > 0: acquired, the lease ends at now + leaseMs | -expiresAt: in progress
--            | the key's value: completed | {1, fence, leaseExpiresAt, skipped}: acquired after a
--            gap | {4, value}: conflict | {5, fence, guardValue}: completed, no record (guards)
--   complete 1 written | 0 lease lost | an error text (an effect cannot apply; nothing written)
--   release, extend  1 done | 0 lease lost;  find  the value | 0 none
-- The hot paths (a fresh key, a duplicate, a plain completion) avoid unpacking the whole value,
-- converting numbers to text and building tables: those cost more than the commands.

local F = '>BI6I6I6I6I6I6BBBI1c0I1c0I1c0I4c0I4c0'
local HEAD = '>BI6I6I6I6'
local HEAD7 = '>BI6I6I6I6I6I6'
-- What follows the lease expiry in a fresh lease: no record, outcome or flags (21 bytes).
local NO_RECORD = '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'
-- What follows the token when there is no guard value, gap, fingerprint or result (10 bytes).
local EMPTY_TAIL = '\0\0\0\0\0\0\0\0\0\0'
-- A PROCESSED record's flags and empty sections, before its result: without one, with one.
local PROCESSED_NO_RESULT = 'P\0\0\0\0\0\0\0\0\0\0\0\0\0'
local PROCESSED_RESULT = 'P\0\1\0\0\0\0\0\0\0'
local NXGET = __NXGET__
local B = 1000000000
local D = 68
-- Libraries are bound when the batch runs: a function library sees only part of them at load.
local floor, tonumber, tostring, unpack, sub, byte, char, find, format
local call, spack, sunpack
local now = 0
-- Per batch: the head of a fresh lease for the last (lease, keep) arguments, and the last
-- retention; the operations of one batch mostly share them.
local freshLease, freshKeep, freshHead, lastRetention, lastRetentionMs

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

-- Writes the state; the key's expiry moves only when it grows (KEEPTTL spares a conversion).
local function save(k, s, keep)
  local same = keep <= s.keep and s.v
  if keep > s.keep then s.keep = keep end
  local v = pack(s.fence, s.keep, s.lx, s.rx, s.cat, s.rf, s.o, s.hf, s.hr, s.tok, s.gv, s.gap,
    s.fp, s.res)
  if same then
    call('SET', k, v, 'KEEPTTL')
  else
    call('SET', k, v, 'PXAT', s.keep)
  end
end

-- ------------------------------------------------------------------ acquire

local function grant(k, s, tok, leaseMs, keepMs, skipped)
  s.fence = s.fence + 1
  s.tok = tok
  s.lx = now + leaseMs
  save(k, s, now + keepMs)
  if skipped == 0 then return s.fence end
  return {1, s.fence, s.lx, skipped}
end

local function conflicts(s, hasFp, fp)
  return hasFp and s.hf == 1 and s.fp ~= fp
end

local function plain(k, s, tok, leaseMs, keepMs, hasFp, fp, redrive)
  if s.lx > 0 then return -s.lx end
  if s.rx > 0 then
    if conflicts(s, hasFp, fp) then return {4, s.v} end
    if not (redrive and s.o == D) then return s.v end
  end
  return grant(k, s, tok, leaseMs, keepMs, 0)
end

-- A number beyond the next one of a contiguous guard: it waits, unless the gap outlived its
-- timeout and it is the lowest number waiting (a lowest number that stopped coming back gives
-- way after another timeout).
local function gap(k, s, r, nxt)
  if not r.gapMs then return -now end
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
  if now < skipAt then return -skipAt end
  return -now
end

local function guarded(k, s, r)
  local g = r.g
  if s.gv ~= '' and cmp(g, s.gv) <= 0 then
    if g == s.gv and s.rx > 0 and s.lx == 0 then
      if r.redrive and s.o == D then return grant(k, s, r.tok, r.leaseMs, r.keepMs, 0) end
      if conflicts(s, r.hasFp, r.fp) then return {4, s.v} end
    end
    if s.rx > 0 then return s.v end
    return {5, s.fence, s.gv}
  end
  if s.lx > 0 then return -s.lx end
  if not r.contiguous then return grant(k, s, r.tok, r.leaseMs, r.keepMs, 0) end
  local nxt = r.first
  if s.gv ~= '' then nxt = inc(s.gv) end
  local c = cmp(g, nxt)
  if c < 0 then return {5, s.fence, s.gv} end
  if c == 0 then return grant(k, s, r.tok, r.leaseMs, r.keepMs, 0) end
  return gap(k, s, r, nxt)
end

-- A plain acquisition: a fresh key costs one command; a duplicate or a live lease is answered
-- from the lease and record expiries alone.
local function acquirePlain(k, tok, leaseArg, keepArg)
  if leaseArg ~= freshLease or keepArg ~= freshKeep then
    freshLease, freshKeep = leaseArg, keepArg
    freshHead = spack('>BI6I6I6', 1, 1, now + tonumber(keepArg), now + tonumber(leaseArg))
      .. NO_RECORD
  end
  local fresh = freshHead .. char(#tok) .. tok .. EMPTY_TAIL
  local v
  if NXGET then
    v = call('SET', k, fresh, 'NX', 'GET', 'PX', keepArg)
    if not v then return 1 end
  else
    v = call('GET', k)
    if not v then
      call('SET', k, fresh, 'PX', keepArg)
      return 1
    end
  end
  local _, _, _, lx, rx = sunpack(HEAD, v)
  if lx > now then return -lx end
  if rx > now then return v end
  return grant(k, load(v), tok, tonumber(leaseArg), tonumber(keepArg), 0)
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

-- Writes the record over a state whose lease the token holds.
local function record(k, s, retMs, o, hasFp, fp, hasRes, res, g)
  if g then
    if s.gv == '' or cmp(g, s.gv) > 0 then s.gv = g end
    s.gap = ''
  end
  s.o = o
  s.cat = now
  s.rf = s.fence
  s.rx = now + retMs
  s.hf, s.fp, s.hr, s.res = 0, '', 0, ''
  if hasFp then s.hf = 1; s.fp = fp end
  if hasRes then s.hr = 1; s.res = res end
  s.lx = 0
  s.tok = ''
  save(k, s, s.rx)
  return 1
end

-- A plain PROCESSED completion (res is nil for none): when the key holds only the lease, the new
-- value is built from the old one's head without unpacking it all.
local function completeFast(k, tok, retMs, res)
  local v = call('GET', k)
  if not v then return 0 end
  local _, fence, keep, lx = sunpack('>BI6I6I6', v)
  local tl = byte(v, 41)
  if lx <= now or tl ~= #tok or sub(v, 42, 41 + tl) ~= tok then return 0 end
  if sub(v, 42 + tl) ~= EMPTY_TAIL then
    return record(k, load(v), retMs, 80, false, '', res ~= nil, res or '', nil)
  end
  local rx = now + retMs
  local grows = rx > keep
  if grows then keep = rx end
  local nv = spack(HEAD7, 1, fence, keep, 0, rx, now, fence)
  if res then
    nv = nv .. PROCESSED_RESULT .. spack('>I4', #res) .. res
  else
    nv = nv .. PROCESSED_NO_RESULT
  end
  if grows then
    call('SET', k, nv, 'PXAT', keep)
  else
    call('SET', k, nv, 'KEEPTTL')
  end
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
  local g = nil
  if find(flags, 'g', 1, true) then g = args[a + 7] end
  return record(k, s, tonumber(args[a + 2]), byte(args[a + 3]), find(flags, 'f', 1, true) ~= nil,
    args[a + 5], find(flags, 'r', 1, true) ~= nil, args[a + 6], g)
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
  if lx > keep then
    call('SET', k, pack(fence, lx, lx, rx, cat, rf, o, hf, hr, otok, gv, gp, fp, res), 'PXAT', lx)
  else
    call('SET', k, pack(fence, keep, lx, rx, cat, rf, o, hf, hr, otok, gv, gp, fp, res), 'KEEPTTL')
  end
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
  if op == 'a' or op == 'c' then return 1, 4 end
  if op == 'k' then return 1, 3 end
  if op == 'A' then return 1, 10 end
  if op == 'C' then return 1 + tonumber(args[a + 8]), 10 + tonumber(args[a + 9]) end
  if op == 'r' then return 1, 2 end
  if op == 'e' then return 1, 3 end
  if op == 'f' then return 1, 1 end
  return nil
end

local function exec(op, keys, ki, args, a)
  if op == 'a' then
    return acquirePlain(keys[ki], args[a + 1], args[a + 2], args[a + 3])
  elseif op == 'c' or op == 'k' then
    if args[a + 2] ~= lastRetention then
      lastRetention, lastRetentionMs = args[a + 2], tonumber(args[a + 2])
    end
    if op == 'c' then return completeFast(keys[ki], args[a + 1], lastRetentionMs, args[a + 3]) end
    return completeFast(keys[ki], args[a + 1], lastRetentionMs, nil)
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
  sub, byte, char, find, format = string.sub, string.byte, string.char, string.find, string.format
  local t = call('TIME')
  now = tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000)
  freshLease, freshKeep, freshHead, lastRetention, lastRetentionMs = nil, nil, nil, nil, nil
  local ki, a, protect = 1, 1, false
  if args[1] == '@' then
    keys = args
    ki = 3
    a = 3 + tonumber(args[2])
    protect = true
  end
  local out, i, n = {now}, 1, #args
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
