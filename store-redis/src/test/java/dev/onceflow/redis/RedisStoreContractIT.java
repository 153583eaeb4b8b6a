package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.Lease;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The store contract and Redis specifics against the shared Redis on 127.0.0.1:6379 (start it with
 * {@code redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no}).
 */
class RedisStoreContractIT extends RedisContractSupport {

  static final String PREFIX = "onceflow-it";

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
                .keyPrefix(PREFIX)
                .build());
    client = RedisClient.create(RedisTestSupport.SHARED_URI);
    connection = client.connect();
  }

  @AfterAll
  static void cleanUp() {
    if (connection != null) {
      RedisTestSupport.unlinkAll(connection.sync(), PREFIX + ":");
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

  private String messageKey(String key) {
    return PREFIX + ":" + ns() + ":{" + key + "}";
  }

  @Test
  void oneHashTaggedKeyPerMessageHoldsLeaseFenceAndRecordAndExpiresInsideRedis() {
    RedisCommands<String, String> r = connection.sync();
    String key = messageKey("order-1");
    assertThat(store.redisKeyOfMessage(ns(), "order-1")).isEqualTo(key);
    Lease lease = acquired(request("order-1", Duration.ofSeconds(20)));
    assertThat(r.exists(key)).isEqualTo(1);
    long keep = RETAIN.toMillis() + 20_000;
    assertThat(r.pttl(key)).isBetween(keep - 10_000, keep);
    assertThat(SlotHash.getSlot(key)).isEqualTo(SlotHash.getSlot("order-1"));

    assertThat(complete(lease, Completion.processed(bytes("x"), Duration.ofHours(2)))).isTrue();
    long twoHours = Duration.ofHours(2).toMillis();
    assertThat(r.pttl(key)).isBetween(twoHours - 10_000, twoHours);
    assertThat(store.find(ns(), "order-1").block().result()).isEqualTo(bytes("x"));
    assertThat(r.strlen(key)).as("one compact value").isLessThan(80);
  }

  @Test
  void anEffectRedisWouldRefuseFailsTheCompletionAndWritesNothing() {
    RedisCommands<String, String> r = connection.sync();
    String setKey = store.redisKeyOfEffect(ns(), "tags:{k}");
    r.sadd(setKey, "existing");
    Lease lease = acquired(request("k", Duration.ofSeconds(20)));
    Completion bad =
        Completion.processed(
            bytes("r"),
            RETAIN,
            List.of(Effect.incrBy("counter:{k}", 1), Effect.hincrBy("tags:{k}", "f", 1)));
    StepVerifier.create(store.complete(lease, bad))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(EffectRejectedException.class)
                    .hasMessageContaining("HINCRBY")
                    .hasMessageContaining("set"))
        .verify(Duration.ofSeconds(10));
    assertThat(value(ns(), "counter:{k}")).isNull();
    assertThat(store.find(ns(), "k").blockOptional()).isEmpty();

    r.set(store.redisKeyOfEffect(ns(), "text:{k}"), "not-a-number");
    StepVerifier.create(
            store.complete(
                lease, Completion.processed(null, RETAIN, List.of(Effect.incrBy("text:{k}", 1)))))
        .expectError(EffectRejectedException.class)
        .verify(Duration.ofSeconds(10));

    Completion good =
        Completion.processed(
            bytes("r"), RETAIN, List.of(Effect.set("n:{k}", "x"), Effect.sadd("tags:{k}", "new")));
    assertThat(complete(lease, good)).isTrue();
    assertThat(members(ns(), "tags:{k}")).containsExactlyInAnyOrder("existing", "new");
  }

  @Test
  void effectKeysShapedLikeStoreKeysAreRefusedBeforeAnythingIsSent() {
    Lease lease = acquired(request("k", Duration.ofSeconds(20)));
    StepVerifier.create(
            store.complete(
                lease, Completion.processed(null, RETAIN, List.of(Effect.incrBy("{k}:s", 1)))))
        .expectError(EffectRejectedException.class)
        .verify(Duration.ofSeconds(10));
    assertThat(complete(lease, Completion.processed(null, RETAIN))).isTrue();
  }

  @Test
  void theServerCodeIsLoadedAgainWhenRedisLostIt() {
    RedisCommands<String, String> r = connection.sync();
    forget(r);
    Lease lease = acquired(request("k", Duration.ofSeconds(20)));
    forget(r);
    assertThat(complete(lease, Completion.processed(bytes("r"), RETAIN))).isTrue();
    forget(r);
    assertThat(store.find(ns(), "k").block().result()).isEqualTo(bytes("r"));
  }

  /** Makes Redis forget the store's code, as a restart without persistence would. */
  static void forget(RedisCommands<String, String> r) {
    RedisTestSupport.deleteLibrary(r);
    r.scriptFlush();
  }

  @Test
  void concurrentAcquisitionsShareRoundTrips() {
    int n = 4_000;
    long before = scriptCalls();
    long acquired =
        Flux.range(0, n)
            .flatMap(i -> store.acquire(request("b-" + i, Duration.ofSeconds(20))), 256)
            .filter(a -> a instanceof AcquireResult.Acquired)
            .count()
            .block(Duration.ofSeconds(30));
    long calls = scriptCalls() - before;
    assertThat(acquired).isEqualTo(n);
    assertThat(calls).as("script calls for %d acquisitions", n).isLessThan(n / 4);
  }

  @Test
  void namespacesWithBracesAreRefused() {
    StepVerifier.create(
            store.acquire(AcquireRequest.of("bad{ns}", "k", "o", Duration.ofSeconds(1))))
        .expectError(IllegalArgumentException.class)
        .verify(Duration.ofSeconds(5));
  }

  /** FCALL and EVALSHA calls so far (the shared Redis: other stores' calls count too). */
  long scriptCalls() {
    String info = connection.sync().info("commandstats");
    long n = 0;
    Matcher m = Pattern.compile("cmdstat_(?:fcall|evalsha):calls=(\\d+)").matcher(info);
    while (m.find()) {
      n += Long.parseLong(m.group(1));
    }
    return n;
  }
}
