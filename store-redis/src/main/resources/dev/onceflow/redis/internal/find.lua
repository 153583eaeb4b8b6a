-- KEYS: record. Replies the record value, or nil when the key has no live record.
return redis.call('GET', KEYS[1])
