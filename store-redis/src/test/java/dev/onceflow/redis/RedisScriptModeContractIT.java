package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.redis.internal.RedisConnections;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store contract with the server code run as a script (EVALSHA), as on Redis 6.2 or for a user
 * who may not load functions, against the shared Redis.
 */
class RedisScriptModeContractIT extends RedisContractSupport {

  private static RedisIdempotencyStore store;
  private static RedisClient client;
  private static StatefulRedisConnection<String, String> connection;

  @BeforeAll
  static void connect() {
    RedisTestSupport.requireSharedRedis();
    store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder()
                .standalone(RedisTestSupport.SHARED_URI)
                .keyPrefix("onceflow-sit")
                .build(),
            RedisConnections.Mode.SCRIPTS);
    client = RedisClient.create(RedisTestSupport.SHARED_URI);
    connection = client.connect();
  }

  @AfterAll
  static void cleanUp() {
    if (connection != null) {
      RedisTestSupport.unlinkAll(connection.sync(), "onceflow-sit:");
      connection.close();
    }
    if (client != null) {
      client.shutdown();
    }
    if (store != null) {
      store.close();
    }
  }

  @Override
  protected RedisIdempotencyStore redisStore() {
    return store;
  }

  @Override
  protected RedisClusterCommands<String, String> redis() {
    return connection.sync();
  }

  @Test
  void theStoreRunsItsCodeAsAScriptAndReloadsItWhenFlushed() {
    assertThat(store.mode()).isEqualTo(RedisConnections.Mode.SCRIPTS);
    connection.sync().scriptFlush();
    assertThat(acquire(request("k", Duration.ofSeconds(20))))
        .isInstanceOf(dev.onceflow.store.AcquireResult.Acquired.class);
  }
}
