-- KEYS: lease. ARGV: token. Replies 1 when released, 0 when the lease was not current.
if owns(redis.call('GET', KEYS[1]), ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
