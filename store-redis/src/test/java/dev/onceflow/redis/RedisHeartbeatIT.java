package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Lease;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Heartbeats (extend) of thousands of slow handlers are batched like acquisitions, and keep their
 * leases alive while Redis is slowed. Against a redis-server this test owns (its command counts are
 * this test's alone, and it may run {@code DEBUG SLEEP}).
 */
class RedisHeartbeatIT {

  private RedisTestSupport.OwnedRedis redis;
  private RedisIdempotencyStore store;
  private RedisClient admin;
  private StatefulRedisConnection<String, String> connection;

  @BeforeEach
  void start() throws Exception {
    redis =
        new RedisTestSupport.OwnedRedis(
                Files.createTempDirectory("onceflow-heartbeat-"),
                RedisTestSupport.freePort(),
                List.of("--enable-debug-command", "yes"))
            .start(true);
    store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder().standalone("redis://127.0.0.1:" + redis.port).build());
    admin = RedisClient.create("redis://127.0.0.1:" + redis.port);
    connection = admin.connect();
  }

  @AfterEach
  void stop() {
    if (connection != null) {
      connection.close();
    }
    if (admin != null) {
      admin.shutdown();
    }
    if (store != null) {
      store.close();
    }
    if (redis != null) {
      redis.stop();
    }
  }

  private List<Lease> acquireAll(String ns, int n, Duration lease) {
    return Flux.range(0, n)
        .flatMap(i -> store.acquire(AcquireRequest.of(ns, "k" + i, "slow-handlers", lease)), 512)
        .cast(AcquireResult.Acquired.class)
        .map(AcquireResult.Acquired::lease)
        .collectList()
        .block(Duration.ofSeconds(30));
  }

  private long serverCalls() {
    Matcher m =
        Pattern.compile("cmdstat_(?:fcall|evalsha):calls=(\\d+)")
            .matcher(connection.sync().info("commandstats"));
    long n = 0;
    while (m.find()) {
      n += Long.parseLong(m.group(1));
    }
    return n;
  }

  @Test
  void fiveThousandLeasesExtendedConcurrentlyTakeAFewServerCalls() {
    int n = 5_000;
    List<Lease> leases = acquireAll("hb", n, Duration.ofSeconds(10));
    assertThat(leases).hasSize(n);
    long before = serverCalls();
    List<Boolean> extended =
        Flux.fromIterable(leases)
            .flatMap(l -> store.extend(l, Duration.ofSeconds(20)), n)
            .collectList()
            .block(Duration.ofSeconds(30));
    long calls = serverCalls() - before;
    System.out.printf("%d concurrent extends took %d server calls%n", n, calls);
    assertThat(extended).hasSize(n).containsOnly(true);
    // batches of up to 128: 40 calls at best; one call per extend would be 5,000.
    assertThat(calls).as("server calls for %d concurrent extends", n).isBetween(1L, 100L);
    assertThat(connection.sync().pttl("onceflow:hb:{k0}")).isGreaterThan(10_000L);
  }

  /**
   * 2,000 leases of 4 s (taken with 30 s, so that a slow start cannot expire them before the first
   * beat; each beat sets 4 s), each extended every 0.5 s, while Redis stalls for 0.4 s ({@code
   * DEBUG SLEEP}) again and again for 6 s: no lease expires under its live heartbeat, another owner
   * gets IN_PROGRESS for every key all along, and every lease completes at the end.
   */
  @Test
  void leasesDoNotExpireUnderLiveHeartbeatsWhileRedisStalls() throws Exception {
    int n = 2_000;
    Duration lease = Duration.ofSeconds(4);
    List<Lease> leases = acquireAll("slow", n, Duration.ofSeconds(30));
    assertThat(leases).hasSize(n);
    AtomicBoolean stalling = new AtomicBoolean(true);
    AtomicInteger stalls = new AtomicInteger();
    Thread staller =
        new Thread(
            () -> {
              RedisClient c = RedisClient.create("redis://127.0.0.1:" + redis.port);
              try (StatefulRedisConnection<String, String> s = c.connect()) {
                while (stalling.get()) {
                  s.sync()
                      .dispatch(
                          io.lettuce.core.protocol.CommandType.DEBUG,
                          new io.lettuce.core.output.StatusOutput<>(
                              io.lettuce.core.codec.StringCodec.UTF8),
                          new io.lettuce.core.protocol.CommandArgs<>(
                                  io.lettuce.core.codec.StringCodec.UTF8)
                              .add("SLEEP")
                              .add("0.4"));
                  stalls.incrementAndGet();
                  Thread.sleep(200);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                c.shutdown();
              }
            },
            "redis-staller");
    staller.start();
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger takenOver = new AtomicInteger();
    try (RedisIdempotencyStore other =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder().standalone("redis://127.0.0.1:" + redis.port).build())) {
      long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
      while (System.nanoTime() < end) {
        long beat = System.nanoTime();
        Flux.fromIterable(leases)
            .flatMap(l -> store.extend(l, lease), n)
            .filter(ok -> !ok)
            .doOnNext(x -> lost.incrementAndGet())
            .then()
            .block(Duration.ofSeconds(10));
        Flux.range(0, n)
            .filter(i -> i % 50 == 0)
            .flatMap(i -> other.acquire(AcquireRequest.of("slow", "k" + i, "other", lease)))
            .filter(r -> !(r instanceof AcquireResult.InProgress))
            .doOnNext(x -> takenOver.incrementAndGet())
            .then()
            .block(Duration.ofSeconds(10));
        long sleep = 500 - (System.nanoTime() - beat) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
      }
    } finally {
      stalling.set(false);
      staller.join(5_000);
    }
    assertThat(stalls.get()).as("Redis stalls").isGreaterThanOrEqualTo(5);
    assertThat(lost.get()).as("extends that found the lease lost").isZero();
    assertThat(takenOver.get()).as("keys another owner acquired").isZero();
    List<Boolean> completed =
        Flux.fromIterable(leases)
            .flatMap(l -> store.complete(l, Completion.processed(null, Duration.ofMinutes(5))), n)
            .collectList()
            .block(Duration.ofSeconds(30));
    assertThat(completed).hasSize(n).containsOnly(true);
  }
}
