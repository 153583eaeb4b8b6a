package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Lease;
import dev.onceflow.store.StoreException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * Redis going away mid-run: a test-owned redis-server on a free port is stopped (by its pid) and
 * started again, or paused with CLIENT PAUSE. Calls fail fast with {@link StoreException} and work
 * again once Redis is back.
 */
class RedisOutageIT {

  private static final Duration TIMEOUT = Duration.ofMillis(500);

  private RedisTestSupport.OwnedRedis redis;
  private RedisIdempotencyStore store;

  @BeforeEach
  void start() throws Exception {
    Path dir = Files.createTempDirectory("onceflow-outage-");
    redis =
        new RedisTestSupport.OwnedRedis(dir, RedisTestSupport.freePort(), List.of()).start(true);
    store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder()
                .standalone("redis://127.0.0.1:" + redis.port)
                .commandTimeout(TIMEOUT)
                .build());
  }

  @AfterEach
  void stop() {
    if (store != null) {
      store.close();
    }
    if (redis != null) {
      redis.stop();
    }
  }

  private AcquireRequest request(String key) {
    return AcquireRequest.of("outage", key, "o", Duration.ofSeconds(30));
  }

  @Test
  void aStoppedRedisFailsCallsFastAndTheStoreRecoversWhenItIsBack() {
    Lease held = ((AcquireResult.Acquired) store.acquire(request("before")).block()).lease();

    redis.stop();
    long start = System.nanoTime();
    StepVerifier.create(store.acquire(request("during")))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(StoreException.class))
        .verify(Duration.ofSeconds(5));
    StepVerifier.create(store.complete(held, Completion.processed(null, Duration.ofHours(1))))
        .expectError(StoreException.class)
        .verify(Duration.ofSeconds(5));
    StepVerifier.create(store.find("outage", "before"))
        .expectError(StoreException.class)
        .verify(Duration.ofSeconds(5));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.multipliedBy(4));

    redis.start(true);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptionsInstanceOf(StoreException.class)
        .until(() -> store.acquire(request("after")).block() instanceof AcquireResult.Acquired);
    Lease after = ((AcquireResult.Acquired) store.acquire(request("after-2")).block()).lease();
    assertThat(store.complete(after, Completion.processed(null, Duration.ofHours(1))).block())
        .isTrue();
  }

  @Test
  void aPausedRedisTimesOutWithAStoreExceptionAndCallsWorkAfterThePause() {
    assertThat(store.acquire(request("warm")).block()).isInstanceOf(AcquireResult.Acquired.class);
    RedisClient admin = RedisClient.create("redis://127.0.0.1:" + redis.port);
    try (StatefulRedisConnection<String, String> c = admin.connect()) {
      c.sync().clientPause(2_000);
      long start = System.nanoTime();
      StepVerifier.create(store.acquire(request("paused")))
          .expectErrorSatisfies(
              e -> assertThat(e).isInstanceOf(StoreException.class).hasMessageContaining("paused"))
          .verify(Duration.ofSeconds(5));
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(TIMEOUT.minusMillis(50))
          .isLessThan(Duration.ofMillis(1_800));
    } finally {
      admin.shutdown();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptionsInstanceOf(StoreException.class)
        .until(() -> store.acquire(request("resumed")).block() != null);
    assertThat(store.acquire(request("resumed")).block())
        .isInstanceOf(AcquireResult.InProgress.class);
  }
}
