package dev.onceflow.redis.bench;

import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Throughput of deduplication against one Redis, in one run:
 *
 * <ol>
 *   <li>(a) the ceiling: {@code redis-benchmark -P 32 -r 1000000 -n 1000000 SET k:__rand_int__ v NX
 *       PX 60000} (pipelined, unique keys);
 *   <li>(b) onceflow: acquire + complete per message, 256 messages in flight;
 *   <li>(c) the hand-written pattern: blocking GET, then the handler, then SET, one message at a
 *       time.
 * </ol>
 *
 * A message costs onceflow two store operations, so (b) is compared with half of (a). Run with
 * {@code mvn -B -o -pl store-redis test-compile exec:java} (Redis on 127.0.0.1:6379; properties
 * {@code bench.uri}, {@code bench.messages}, {@code bench.naiveMessages}).
 */
public final class RedisThroughputBench {

  private RedisThroughputBench() {}

  public static void main(String[] args) throws Exception {
    String uri = System.getProperty("bench.uri", "redis://127.0.0.1:6379");
    int messages = Integer.getInteger("bench.messages", 500_000);
    int naiveMessages = Integer.getInteger("bench.naiveMessages", 50_000);
    int inFlight = Integer.getInteger("bench.inFlight", 256);

    System.out.printf(
        Locale.ROOT,
        "redis %s, %d cores, JDK %s%n",
        uri,
        Runtime.getRuntime().availableProcessors(),
        Runtime.version());

    String parts = System.getProperty("bench.parts", "abc");
    double a = parts.contains("a") ? redisBenchmark(uri) : Double.NaN;
    System.out.printf(Locale.ROOT, "(a) redis-benchmark SET NX PX -P 32: %,.0f ops/s%n", a);

    double b = Double.NaN;
    if (parts.contains("b")) {
      try (RedisIdempotencyStore store =
          RedisIdempotencyStore.create(
              RedisStoreOptions.builder()
                  .standalone(uri)
                  .keyPrefix("onceflow-bench")
                  .batchSize(
                      Integer.getInteger("bench.batchSize", RedisStoreOptions.DEFAULT_BATCH_SIZE))
                  .maxInFlightBatches(
                      Integer.getInteger(
                          "bench.maxInFlightBatches",
                          RedisStoreOptions.DEFAULT_MAX_IN_FLIGHT_BATCHES))
                  .build())) {
        onceflow(store, Integer.getInteger("bench.warmup", 100_000), inFlight); // warm-up
        double redisBefore = redisCpuSeconds(uri);
        long clientBefore = clientCpuNanos();
        long t0 = System.nanoTime();
        b = onceflow(store, messages, inFlight);
        double wall = (System.nanoTime() - t0) / 1e9;
        double redisCpu = redisCpuSeconds(uri) - redisBefore;
        double clientCpu = (clientCpuNanos() - clientBefore) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "    per message: redis CPU %.1f us, client CPU %.1f us (redis busy %.0f%% of the run)%n",
            redisCpu * 1e6 / messages,
            clientCpu * 1e6 / messages,
            100 * redisCpu / wall);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "(b) onceflow acquire+complete, %d in flight: %,.0f messages/s%n",
        inFlight,
        b);

    double c = parts.contains("c") ? naive(uri, naiveMessages) : Double.NaN;
    System.out.printf(Locale.ROOT, "(c) naive blocking GET+SET per message: %,.0f messages/s%n", c);

    System.out.printf(Locale.ROOT, "b / (a/2) = %.2f (target >= 0.60)%n", b / (a / 2));
    System.out.printf(Locale.ROOT, "b / c = %.1f (target >= 10)%n", b / c);
    System.exit(0);
  }

  static double redisBenchmark(String uri) throws IOException, InterruptedException {
    io.lettuce.core.RedisURI u = io.lettuce.core.RedisURI.create(uri);
    List<String> cmd =
        List.of(
            "redis-benchmark",
            "-h",
            u.getHost(),
            "-p",
            Integer.toString(u.getPort()),
            "-P",
            "32",
            "-r",
            "1000000",
            "-n",
            "1000000",
            "-q",
            "SET",
            "k:__rand_int__",
            "v",
            "NX",
            "PX",
            "60000");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
    Matcher m = Pattern.compile("([0-9.]+) requests per second").matcher(out);
    double last = -1;
    while (m.find()) {
      last = Double.parseDouble(m.group(1));
    }
    if (last < 0) {
      throw new IllegalStateException("cannot parse redis-benchmark output: " + out);
    }
    return last;
  }

  static double onceflow(RedisIdempotencyStore store, int n, int inFlight) {
    String ns = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    Duration lease = Duration.ofSeconds(30);
    Duration retention = Duration.ofSeconds(60);
    byte[] result = "ok".getBytes(StandardCharsets.UTF_8);
    long start = System.nanoTime();
    Long done =
        Flux.range(0, n)
            .flatMap(
                i ->
                    store
                        .acquire(
                            new AcquireRequest(
                                ns, "m-" + i, "bench", lease, retention, null, null, false))
                        .flatMap(
                            r ->
                                r instanceof AcquireResult.Acquired acq
                                    ? store.complete(
                                        acq.lease(), Completion.processed(result, retention))
                                    : Mono.error(new IllegalStateException("not acquired: " + r))),
                inFlight)
            .filter(Boolean::booleanValue)
            .count()
            .block(Duration.ofMinutes(5));
    long nanos = System.nanoTime() - start;
    if (done == null || done != n) {
      throw new IllegalStateException("completed " + done + " of " + n);
    }
    return n / (nanos / 1e9);
  }

  private static double redisCpuSeconds(String uri) {
    RedisClient client = RedisClient.create(uri);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      double total = 0;
      for (String line : c.sync().info("cpu").split("\r?\n")) {
        if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
          total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      return total;
    } finally {
      client.shutdown();
    }
  }

  private static long clientCpuNanos() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
  }

  static double naive(String uri, int n) {
    RedisClient client = RedisClient.create(uri);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      RedisCommands<String, String> sync = c.sync();
      String prefix = "naive-" + UUID.randomUUID().toString().substring(0, 8) + ":";
      SetArgs ex = SetArgs.Builder.ex(60);
      for (int i = 0; i < 5_000; i++) { // warm-up
        step(sync, prefix + "w" + i, ex);
      }
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        step(sync, prefix + i, ex);
      }
      return n / ((System.nanoTime() - start) / 1e9);
    } finally {
      client.shutdown();
    }
  }

  private static void step(RedisCommands<String, String> sync, String key, SetArgs ex) {
    if (sync.get(key) == null) {
      handler();
      sync.set(key, "done", ex);
    }
  }

  private static void handler() {
    // the message's work: nothing, so that only deduplication is measured
  }
}
