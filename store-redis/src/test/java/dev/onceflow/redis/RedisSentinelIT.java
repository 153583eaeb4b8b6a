package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Lease;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sentinel: the test starts a primary and one {@code redis-server <conf> --sentinel} monitoring it,
 * both on free loopback ports; the store finds the primary through the sentinel.
 */
class RedisSentinelIT {

  private static RedisTestSupport.OwnedRedis primary;
  private static Process sentinel;
  private static int sentinelPort;

  @BeforeAll
  static void start() throws IOException {
    Path dir = Files.createTempDirectory("onceflow-sentinel-");
    primary =
        new RedisTestSupport.OwnedRedis(
                dir.resolve("primary"), RedisTestSupport.freePort(), List.of())
            .start(true);
    sentinelPort = RedisTestSupport.freePort();
    Path conf = dir.resolve("sentinel.conf");
    Files.writeString(
        conf,
        String.join(
            "\n",
            "port " + sentinelPort,
            "bind 127.0.0.1",
            "dir " + dir,
            "sentinel monitor onceflow-primary 127.0.0.1 " + primary.port + " 1",
            "sentinel down-after-milliseconds onceflow-primary 5000",
            ""));
    sentinel =
        new ProcessBuilder("redis-server", conf.toString(), "--sentinel")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("sentinel.log").toFile())
            .start();
    RedisTestSupport.awaitTrue(
        "redis sentinel on port " + sentinelPort,
        Duration.ofSeconds(10),
        () -> {
          if (!sentinel.isAlive()) {
            fail("redis sentinel exited, see " + dir.resolve("sentinel.log"));
          }
          return RedisTestSupport.pings(sentinelPort);
        });
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (sentinel != null) {
      sentinel.destroy();
      sentinel.waitFor(5, TimeUnit.SECONDS);
    }
    if (primary != null) {
      primary.stop();
    }
  }

  @Test
  void theStoreFindsThePrimaryThroughSentinel() {
    try (RedisIdempotencyStore store =
        RedisIdempotencyStore.create(
            RedisStoreOptions.builder()
                .sentinel("onceflow-primary", List.of("127.0.0.1:" + sentinelPort))
                .build())) {
      AcquireResult r =
          store.acquire(AcquireRequest.of("sentinel", "k", "o", Duration.ofSeconds(30))).block();
      assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
      Lease lease = ((AcquireResult.Acquired) r).lease();
      assertThat(store.complete(lease, Completion.processed(null, Duration.ofMinutes(1))).block())
          .isTrue();
      assertThat(
              RedisTestSupport.run(
                  List.of(
                      "redis-cli",
                      "-p",
                      Integer.toString(primary.port),
                      "exists",
                      "onceflow:sentinel:{k}"),
                  Duration.ofSeconds(5)))
          .contains("1");
    }
  }
}
