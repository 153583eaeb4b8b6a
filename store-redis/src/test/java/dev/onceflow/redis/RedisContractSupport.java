package dev.onceflow.redis;

import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.test.IdempotencyStoreContract;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** The contract against a Redis store; effects are read back with plain Redis commands. */
abstract class RedisContractSupport extends IdempotencyStoreContract {

  /** The store under test. */
  protected abstract RedisIdempotencyStore redisStore();

  /** A plain connection to the same Redis, for reading what the store wrote. */
  protected abstract RedisClusterCommands<String, String> redis();

  @Override
  protected IdempotencyStore store() {
    return redisStore();
  }

  private String k(String namespace, String key) {
    return redisStore().redisKeyOfEffect(namespace, key);
  }

  @Override
  protected Map<String, String> hash(String namespace, String key) {
    return redis().hgetall(k(namespace, key));
  }

  @Override
  protected @Nullable String value(String namespace, String key) {
    return redis().get(k(namespace, key));
  }

  @Override
  protected Set<String> members(String namespace, String key) {
    return redis().smembers(k(namespace, key));
  }

  @Override
  protected List<Map<String, String>> stream(String namespace, String key) {
    return redis().xrange(k(namespace, key), Range.create("-", "+")).stream()
        .map(StreamMessage::getBody)
        .toList();
  }
}
