package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.StoreException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The store under load while the Cluster changes: a node restarts, slots move to another node
 * (lettuce issue #2420: a command written while a node connection is opening must not wait for its
 * timeout). Every message is processed until it is recorded, as a consumer would (a store error is
 * a nack and a retry); each applies a transactional effect, so "exactly once" is checked on the
 * data, and every call's latency is recorded.
 */
class RedisClusterChaosIT {

  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private OwnedCluster cluster;
  private RedisIdempotencyStore store;

  @BeforeEach
  void start() throws Exception {
    cluster =
        OwnedCluster.start(
            3, List.of("--appendonly", "yes", "--cluster-require-full-coverage", "no"));
    store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder()
                .cluster(cluster.seeds())
                .keyPrefix("chaos")
                .commandTimeout(TIMEOUT)
                .build());
  }

  @AfterEach
  void stop() {
    if (store != null) {
      store.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** One store call: when it started and ended (nanoTime), and how it ended. */
  record Call(long start, long end, Throwable error) {}

  /** Processes message keys until each is recorded; counts every applied completion. */
  private final class Load {
    final String ns = "load";
    final Map<String, AtomicInteger> completions = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    final AtomicLong done = new AtomicLong();
    final AtomicInteger started = new AtomicInteger();
    volatile boolean stopping;

    <T> Mono<T> timed(Mono<T> call) {
      return Mono.defer(
          () -> {
            long start = System.nanoTime();
            return call.doOnSuccess(x -> calls.add(new Call(start, System.nanoTime(), null)))
                .doOnError(e -> calls.add(new Call(start, System.nanoTime(), e)));
          });
    }

    Mono<Void> process(String key) {
      AcquireRequest r = AcquireRequest.of(ns, key, "chaos", Duration.ofSeconds(5));
      Completion c =
          Completion.processed(
              null,
              Duration.ofMinutes(10),
              List.of(Effect.incrBy(RedisIdempotencyStore.colocated("n", key), 1)));
      return timed(store.acquire(r))
          .flatMap(
              a -> {
                if (a instanceof AcquireResult.Completed) {
                  return Mono.just(true);
                }
                if (!(a instanceof AcquireResult.Acquired acq)) {
                  return Mono.error(new StoreException("in progress: " + key));
                }
                return timed(store.complete(acq.lease(), c))
                    .doOnNext(
                        ok -> {
                          if (ok) {
                            completions
                                .computeIfAbsent(key, k -> new AtomicInteger())
                                .incrementAndGet();
                          }
                        })
                    .flatMap(ok -> ok ? Mono.just(true) : Mono.error(new StoreException("lost")));
              })
          .retryWhen(
              Retry.fixedDelay(Long.MAX_VALUE, Duration.ofMillis(50))
                  .filter(StoreException.class::isInstance))
          .doOnSuccess(x -> done.incrementAndGet())
          .then();
    }

    Disposable run(int keys, int concurrency) {
      return Flux.range(0, keys).flatMap(i -> process("m" + i), concurrency).subscribe();
    }

    /** Keeps processing new keys until {@link #stopping}; {@link #started} counts them. */
    Disposable runUntilStopped(int concurrency) {
      return Flux.range(0, Integer.MAX_VALUE)
          .takeWhile(i -> !stopping)
          .doOnNext(i -> started.incrementAndGet())
          .flatMap(i -> process("m" + i), concurrency)
          .subscribe();
    }

    void assertExactlyOnce(int keys) {
      RedisClusterClient client =
          RedisClusterClient.create(cluster.seeds().stream().map(RedisURI::create).toList());
      try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
        for (int i = 0; i < keys; i++) {
          String key = "m" + i;
          // A completion can be applied while its reply is lost (the node stopped): the retry then
          // finds the record. It is never applied twice: the effect says so.
          AtomicInteger acknowledged = completions.get(key);
          assertThat(acknowledged == null ? 0 : acknowledged.get())
              .as("acknowledged completions of %s", key)
              .isLessThanOrEqualTo(1);
          assertThat(store.find(ns, key).block()).as("record of %s", key).isNotNull();
          assertThat(
                  c.sync()
                      .get(store.redisKeyOfEffect(ns, RedisIdempotencyStore.colocated("n", key))))
              .as("effect of %s", key)
              .isEqualTo("1");
        }
      } finally {
        client.shutdown();
      }
    }

    long timeoutsStartedAfter(long t) {
      return calls.stream()
          .filter(c -> c.start() > t && c.error() != null)
          .filter(c -> hasCause(c.error(), RedisCommandTimeoutException.class))
          .count();
    }

    long slowestAfterMillis(long t) {
      return calls.stream()
          .filter(c -> c.start() > t)
          .mapToLong(c -> (c.end() - c.start()) / 1_000_000)
          .max()
          .orElse(0);
    }
  }

  private static boolean hasCause(Throwable e, Class<?> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static void await(String what, Duration max, java.util.function.BooleanSupplier check) {
    RedisTestSupport.awaitTrue(what, max, check);
  }

  @Test
  void aNodeRestartUnderLoadLosesNothingAndLeavesNoCallHangingOnceItIsBack() throws Exception {
    int keys = 6_000;
    Load load = new Load();
    Disposable running = load.run(keys, 128);
    try {
      await("some progress", Duration.ofSeconds(30), () -> load.done.get() > keys / 5);
      RedisTestSupport.OwnedRedis node = cluster.nodes.get(1);
      node.stop();
      Thread.sleep(1_500);
      node.start(true);
      cluster.awaitReady();
      long back = System.nanoTime();
      await("every message recorded", Duration.ofSeconds(90), () -> load.done.get() == keys);
      // Calls sent once the node was back (some while its connection was opening again) were
      // answered; none waited for its timeout.
      assertThat(load.timeoutsStartedAfter(back + Duration.ofMillis(500).toNanos()))
          .as("calls that timed out after the node was back")
          .isZero();
      assertThat(load.slowestAfterMillis(back + Duration.ofSeconds(2).toNanos()))
          .isLessThan(TIMEOUT.toMillis());
    } finally {
      running.dispose();
    }
    load.assertExactlyOnce(keys);
  }

  @Test
  void slotsMovingUnderLoadLoseNothingAndNoCallFails() throws Exception {
    Load load = new Load();
    Disposable running = load.runUntilStopped(128);
    int keys;
    try {
      await("some progress", Duration.ofSeconds(30), () -> load.done.get() > 1_000);
      long resentBefore = store.resent();
      cluster.reshard(cluster.nodes.get(0), cluster.nodes.get(2), 300);
      cluster.reshard(cluster.nodes.get(2), cluster.nodes.get(1), 200);
      load.stopping = true;
      await(
          "every message recorded",
          Duration.ofSeconds(90),
          () -> load.done.get() == load.started.get());
      keys = load.started.get();
      assertThat(store.resent() - resentBefore)
          .as("operations that met a moving slot and were sent again")
          .isPositive();
      assertThat(load.calls.stream().filter(c -> c.error() != null).map(Call::error).toList())
          .as("failed calls while slots moved")
          .isEmpty();
      assertThat(load.slowestAfterMillis(0)).isLessThan(TIMEOUT.toMillis());
    } finally {
      running.dispose();
    }
    load.assertExactlyOnce(keys);
  }
}
