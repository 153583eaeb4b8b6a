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
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
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
    // Fast: not hanging until the connect timeout (10 s); the bound leaves room for a loaded CI
    // box.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(TIMEOUT.multipliedBy(10));

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
  void aPausedRedisTimesOutWithAStoreExceptionAndTheTimedOutLeaseIsReleasedAfterThePause() {
    assertThat(store.acquire(request("warm")).block()).isInstanceOf(AcquireResult.Acquired.class);
    RedisClient admin = RedisClient.create("redis://127.0.0.1:" + redis.port);
    try (StatefulRedisConnection<String, String> c = admin.connect()) {
      c.sync().clientPause(4_000);
      long start = System.nanoTime();
      StepVerifier.create(store.acquire(request("paused")))
          .expectErrorSatisfies(
              e -> assertThat(e).isInstanceOf(StoreException.class).hasMessageContaining("paused"))
          .verify(Duration.ofSeconds(5));
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(TIMEOUT.minusMillis(50))
          .isLessThan(Duration.ofMillis(3_500));
    } finally {
      admin.shutdown();
    }
    // The timed-out acquisition ran once Redis resumed; its lease (30 s) is released at once.
    long resumed = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptionsInstanceOf(StoreException.class)
        .until(() -> store.acquire(request("paused")).block() instanceof AcquireResult.Acquired);
    // Well before the lease (30 s) would have ended on its own.
    assertThat(Duration.ofNanos(System.nanoTime() - resumed)).isLessThan(Duration.ofSeconds(15));
    assertThat(store.acquire(request("paused")).block())
        .isInstanceOf(AcquireResult.InProgress.class);
  }

  /**
   * The store contract: "a timed-out call may have been applied". Redis is stopped (SIGSTOP) for
   * longer than the command timeout with 300 acquisitions in flight: every one fails with a
   * StoreException, Redis runs them all once it continues, and the store releases what they granted
   * at once, so the keys are free again long before their lease (60 s) would end, and none is
   * granted twice.
   */
  @Test
  void acquisitionsThatTimedOutDuringAStopAreReleasedOnceRedisAnswersAgain() throws Exception {
    int n = 300;
    String ns = "stopped";
    Duration lease = Duration.ofSeconds(60);
    assertThat(store.acquire(AcquireRequest.of(ns, "warm", "o", lease)).block())
        .isInstanceOf(AcquireResult.Acquired.class);
    RedisTestSupport.run(
        List.of("kill", "-STOP", Long.toString(redis.pid())), Duration.ofSeconds(5));
    List<Throwable> errors;
    try {
      errors =
          Flux.range(0, n)
              .flatMap(
                  i ->
                      store
                          .acquire(AcquireRequest.of(ns, "k" + i, "a", lease))
                          .map(
                              r -> (Throwable) new AssertionError("answered during the stop: " + r))
                          .onErrorResume(e -> Mono.just(e)),
                  n)
              .collectList()
              .block(Duration.ofSeconds(20));
      Thread.sleep(TIMEOUT.toMillis());
      // While Redis is stopped the store keeps the tokens it could not release yet.
      assertThat(store.orphans()).isPositive();
    } finally {
      RedisTestSupport.run(
          List.of("kill", "-CONT", Long.toString(redis.pid())), Duration.ofSeconds(5));
    }
    assertThat(errors).hasSize(n).allSatisfy(e -> assertThat(e).isInstanceOf(StoreException.class));

    long resumed = System.nanoTime();
    try (RedisIdempotencyStore other =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder().standalone("redis://127.0.0.1:" + redis.port).build())) {
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> store.orphans() == 0);
      List<AcquireResult> first =
          Flux.range(0, n)
              .flatMap(i -> other.acquire(AcquireRequest.of(ns, "k" + i, "b", lease)))
              .collectList()
              .block(Duration.ofSeconds(10));
      // Far below the lease (60 s): the keys were freed, not left to expire.
      assertThat(Duration.ofNanos(System.nanoTime() - resumed)).isLessThan(Duration.ofSeconds(25));
      assertThat(first)
          .hasSize(n)
          .allSatisfy(r -> assertThat(r).isInstanceOf(AcquireResult.Acquired.class));
      List<AcquireResult> second =
          Flux.range(0, n)
              .flatMap(i -> other.acquire(AcquireRequest.of(ns, "k" + i, "c", lease)))
              .collectList()
              .block(Duration.ofSeconds(10));
      assertThat(second)
          .hasSize(n)
          .allSatisfy(r -> assertThat(r).isInstanceOf(AcquireResult.InProgress.class));
    }
  }

  /**
   * A caller that gives up on an acquisition after it was sent (a timeout of its own, a cancelled
   * pipeline) never sees the lease; the store releases it as soon as the grant arrives.
   */
  @Test
  void anAcquisitionCancelledAfterItWasSentLeavesNoLeaseBehind() throws Exception {
    assertThat(store.acquire(request("warm")).block()).isInstanceOf(AcquireResult.Acquired.class);
    RedisClient admin = RedisClient.create("redis://127.0.0.1:" + redis.port);
    try (StatefulRedisConnection<String, String> c = admin.connect()) {
      c.sync().clientPause(300);
      reactor.core.Disposable pending = store.acquire(request("cancelled")).subscribe();
      Thread.sleep(100);
      pending.dispose();
    } finally {
      admin.shutdown();
    }
    long resumed = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> store.acquire(request("cancelled")).block() instanceof AcquireResult.Acquired);
    assertThat(Duration.ofNanos(System.nanoTime() - resumed)).isLessThan(Duration.ofSeconds(10));
    assertThat(store.acquire(request("cancelled")).block())
        .isInstanceOf(AcquireResult.InProgress.class);
  }
}
