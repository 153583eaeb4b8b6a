package dev.onceflow.redis.bench;

import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.IdempotencyStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The Redis store's hot path, measured in one run against one Redis (by default a redis-server this
 * harness starts on a free port, so that no other client counts in its CPU):
 *
 * <ul>
 *   <li>{@code l} the hand-written baseline: lettuce async, 256 in flight, {@code SET id processing
 *       NX PX 60000}, the (empty) handler, {@code SET id done EX 604800}, per message;
 *   <li>{@code s} the store: {@code acquire} then {@code complete} (a small cached result) per
 *       message, 256 in flight ({@code Flux.flatMap(..., 256)});
 *   <li>{@code t} latency of acquire + complete at a low, paced rate (1,000 messages/s): p50, p99,
 *       p99.9, max;
 *   <li>{@code p} a whole pipeline ({@code Onceflow.consume(InMemorySource)...deduplicate(
 *       Dedup.byMessageId(store))}, concurrency 256, 30 % duplicates, many of them in flight beside
 *       their original), on the Redis store and on the in-memory store;
 *   <li>{@code w} the cost of waiting for a replica: the store at 256 in flight against a primary
 *       with one replica (both started here), without and with {@code waitForReplicas(1, 1s)}.
 * </ul>
 *
 * For each: messages/s, Redis CPU per message ({@code INFO cpu}), client JVM CPU per message
 * (process CPU time, all threads), and the Redis commands per message ({@code INFO commandstats}).
 * Properties: {@code bench.parts} (default {@code lstp}), {@code bench.messages} (500,000), {@code
 * bench.inFlight} (256), {@code bench.rate} (1000), {@code bench.seconds} (10), {@code
 * bench.pipelineMessages} (200,000), {@code bench.rounds} (3), {@code bench.uri} (use an existing
 * Redis instead). Run: {@code mvn -B -o -pl store-redis -am -Pbench verify -DskipTests}.
 */
public final class RedisThroughputBench {

  private static final Duration LEASE = Duration.ofSeconds(60);
  private static final Duration RETENTION = Duration.ofHours(1);
  private static final byte[] RESULT = "ok".getBytes(StandardCharsets.UTF_8);

  private RedisThroughputBench() {}

  /** What one measured run cost. */
  record Sample(
      String name,
      long messages,
      double seconds,
      double redisCpu,
      double clientCpu,
      Map<String, long[]> commands) {

    double rate() {
      return messages / seconds;
    }

    double redisMicros() {
      return redisCpu * 1e6 / messages;
    }

    double clientMicros() {
      return clientCpu * 1e6 / messages;
    }

    void print() {
      StringBuilder cmds = new StringBuilder();
      commands.forEach(
          (c, v) ->
              cmds.append(
                  String.format(
                      Locale.ROOT,
                      " %s=%.3f/msg(%.1fus/call)",
                      c,
                      (double) v[0] / messages,
                      v[0] == 0 ? 0.0 : (double) v[1] / v[0])));
      System.out.printf(
          Locale.ROOT,
          "RESULT name=%s msgs=%d seconds=%.2f msgs_per_s=%.0f redis_us_per_msg=%.2f"
              + " client_us_per_msg=%.2f commands:%s%n",
          name,
          messages,
          seconds,
          rate(),
          redisMicros(),
          clientMicros(),
          cmds);
    }
  }

  public static void main(String[] args) throws Exception {
    String parts = System.getProperty("bench.parts", "lstp");
    int messages = Integer.getInteger("bench.messages", 500_000);
    int inFlight = Integer.getInteger("bench.inFlight", 256);
    int rounds = Integer.getInteger("bench.rounds", 3);
    String uri = System.getProperty("bench.uri");
    System.out.printf(
        Locale.ROOT,
        "# cores=%d jdk=%s load=%.2f redis=%s%n",
        Runtime.getRuntime().availableProcessors(),
        Runtime.version(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
        uri == null ? "own redis-server" : uri);
    List<Sample> lettuce = new ArrayList<>();
    List<Sample> store = new ArrayList<>();
    try (BenchRedis redis = uri == null ? BenchRedis.start(List.of()) : BenchRedis.existing(uri)) {
      System.out.println(
          "# "
              + redis
                  .command("INFO", "server")
                  .lines()
                  .filter(l -> l.startsWith("redis_version"))
                  .findFirst()
                  .orElse(""));
      try (RedisIdempotencyStore s = RedisIdempotencyStore.create(options(redis.uri))) {
        if (parts.contains("l")) {
          lettuce(redis, messages / 5, inFlight);
        }
        if (parts.contains("s")) {
          store(redis, s, messages / 5, inFlight, "warmup");
        }
        for (int round = 1; round <= rounds; round++) {
          if (parts.contains("l")) {
            lettuce.add(lettuce(redis, messages, inFlight));
          }
          if (parts.contains("s")) {
            store.add(store(redis, s, messages, inFlight, "store-" + inFlight));
          }
        }
        if (parts.contains("t")) {
          latency(
              s, Integer.getInteger("bench.rate", 1000), Integer.getInteger("bench.seconds", 10));
        }
      }
      if (!lettuce.isEmpty() && !store.isEmpty()) {
        Sample l = median(lettuce);
        Sample o = median(store);
        System.out.printf(
            Locale.ROOT,
            "MEDIAN lettuce msgs_per_s=%.0f redis_us=%.2f client_us=%.2f | store msgs_per_s=%.0f"
                + " redis_us=%.2f client_us=%.2f | store/lettuce=%.2f%n",
            l.rate(),
            l.redisMicros(),
            l.clientMicros(),
            o.rate(),
            o.redisMicros(),
            o.clientMicros(),
            o.rate() / l.rate());
      }
      if (parts.contains("p")) {
        pipelines(redis, Integer.getInteger("bench.pipelineMessages", 200_000), inFlight, rounds);
      }
    }
    if (parts.contains("w")) {
      replicas(messages / 2, inFlight);
    }
    System.exit(0);
  }

  private static RedisStoreOptions options(String uri) {
    return RedisStoreOptions.builder().standalone(uri).keyPrefix("onceflow-bench").build();
  }

  private static Sample median(List<Sample> samples) {
    List<Sample> sorted = new ArrayList<>(samples);
    sorted.sort((a, b) -> Double.compare(a.rate(), b.rate()));
    return sorted.get((sorted.size() - 1) / 2);
  }

  private static long clientCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** Runs {@code body} (which handles {@code messages} messages) and measures it. */
  static Sample measure(BenchRedis redis, String name, long messages, Runnable body) {
    Map<String, long[]> before = redis.commandStats();
    double redisBefore = redis.cpuSeconds();
    long cpuBefore = clientCpuNanos();
    long t0 = System.nanoTime();
    body.run();
    double seconds = (System.nanoTime() - t0) / 1e9;
    double clientCpu = (clientCpuNanos() - cpuBefore) / 1e9;
    double redisCpu = redis.cpuSeconds() - redisBefore;
    Map<String, long[]> after = redis.commandStats();
    Map<String, long[]> delta = new TreeMap<>();
    after.forEach(
        (c, v) -> {
          long[] b = before.getOrDefault(c, new long[2]);
          if (v[0] > b[0] && !c.equals("info")) {
            delta.put(c, new long[] {v[0] - b[0], v[1] - b[1]});
          }
        });
    Sample s = new Sample(name, messages, seconds, redisCpu, clientCpu, delta);
    s.print();
    return s;
  }

  // ------------------------------------------------------------------ l: hand-written lettuce

  static Sample lettuce(BenchRedis redis, int n, int inFlight) {
    String prefix = "bench-lettuce:" + UUID.randomUUID().toString().substring(0, 8) + ":";
    RedisClient client = RedisClient.create(redis.uri);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      RedisAsyncCommands<String, String> r = c.async();
      SetArgs claim = SetArgs.Builder.nx().px(LEASE.toMillis());
      SetArgs done = SetArgs.Builder.ex(RETENTION.toSeconds());
      Semaphore permits = new Semaphore(inFlight);
      AtomicInteger completed = new AtomicInteger();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Sample s =
          measure(
              redis,
              "lettuce-setnx-" + inFlight,
              n,
              () -> {
                for (int i = 0; i < n; i++) {
                  permits.acquireUninterruptibly();
                  String key = prefix + i;
                  r.set(key, "processing", claim)
                      .whenComplete(
                          (ok, e) -> {
                            if (e != null || !"OK".equals(ok)) {
                              failure.compareAndSet(
                                  null,
                                  e == null ? new IllegalStateException("not claimed: " + key) : e);
                              permits.release();
                              return;
                            }
                            r.set(key, "done", done)
                                .whenComplete(
                                    (ok2, e2) -> {
                                      if (e2 != null) {
                                        failure.compareAndSet(null, e2);
                                      }
                                      completed.incrementAndGet();
                                      permits.release();
                                    });
                          });
                }
                permits.acquireUninterruptibly(inFlight);
                permits.release(inFlight);
              });
      if (failure.get() != null || completed.get() != n) {
        throw new IllegalStateException(
            "lettuce baseline: " + completed.get() + " of " + n, failure.get());
      }
      return s;
    } finally {
      redis.clear(prefix);
      client.shutdown();
    }
  }

  // ------------------------------------------------------------------ s: the store

  static Sample store(BenchRedis redis, IdempotencyStore store, int n, int inFlight, String name) {
    String ns = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    try {
      return measure(
          redis,
          name,
          n,
          () -> {
            Long done =
                Flux.range(0, n)
                    .flatMap(i -> acquireAndComplete(store, ns, "m-" + i), inFlight)
                    .filter(Boolean::booleanValue)
                    .count()
                    .block(Duration.ofMinutes(10));
            if (done == null || done != n) {
              throw new IllegalStateException("completed " + done + " of " + n);
            }
          });
    } finally {
      redis.clear("onceflow-bench:" + ns + ":");
    }
  }

  private static Mono<Boolean> acquireAndComplete(IdempotencyStore store, String ns, String key) {
    return store
        .acquire(new AcquireRequest(ns, key, "bench", LEASE, RETENTION, null, null, false))
        .flatMap(
            r ->
                r instanceof AcquireResult.Acquired a
                    ? store.complete(a.lease(), Completion.processed(RESULT, RETENTION))
                    : Mono.error(new IllegalStateException("not acquired: " + r)));
  }

  // ------------------------------------------------------------------ t: latency at low load

  static void latency(IdempotencyStore store, int rate, int seconds) {
    String ns = "bench-lat-" + UUID.randomUUID().toString().substring(0, 8);
    int warm = rate * 2;
    int n = rate * seconds;
    long[] nanos = new long[n];
    long periodNanos = 1_000_000_000L / rate;
    AtomicInteger index = new AtomicInteger();
    Flux.interval(Duration.ofNanos(periodNanos))
        .take(warm + n)
        .flatMap(
            tick -> {
              long t0 = System.nanoTime();
              return acquireAndComplete(store, ns, "l-" + tick)
                  .doOnNext(
                      ok -> {
                        if (tick >= warm) {
                          nanos[index.getAndIncrement()] = System.nanoTime() - t0;
                        }
                      });
            },
            1024)
        .then()
        .block(Duration.ofSeconds(seconds + 60L));
    long[] sorted = Arrays.copyOf(nanos, index.get());
    Arrays.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "LATENCY rate=%d msgs=%d acquire+complete p50=%.0fus p99=%.0fus p99.9=%.0fus max=%.0fus%n",
        rate,
        sorted.length,
        pct(sorted, 0.50),
        pct(sorted, 0.99),
        pct(sorted, 0.999),
        sorted[sorted.length - 1] / 1e3);
  }

  private static double pct(long[] sorted, double p) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] / 1e3;
  }

  // ------------------------------------------------------------------ p: a whole pipeline

  static void pipelines(BenchRedis redis, int n, int concurrency, int rounds) {
    String[] workload = workload(n, new Random(42));
    try (RedisIdempotencyStore store = RedisIdempotencyStore.create(options(redis.uri))) {
      List<Sample> onRedis = new ArrayList<>();
      List<Sample> inMemory = new ArrayList<>();
      pipeline(redis, store, workload(n / 5, new Random(7)), concurrency, "warmup-redis");
      pipeline(
          redis,
          InMemoryIdempotencyStore.create(),
          workload(n / 5, new Random(7)),
          concurrency,
          "warmup-memory");
      for (int round = 0; round < rounds; round++) {
        onRedis.add(pipeline(redis, store, workload, concurrency, "pipeline-redis"));
        inMemory.add(
            pipeline(
                redis,
                InMemoryIdempotencyStore.create(),
                workload,
                concurrency,
                "pipeline-memory"));
      }
      Sample r = median(onRedis);
      Sample m = median(inMemory);
      System.out.printf(
          Locale.ROOT,
          "MEDIAN pipeline-redis msgs_per_s=%.0f redis_us=%.2f client_us=%.2f |"
              + " pipeline-memory msgs_per_s=%.0f client_us=%.2f | client CPU the Redis path"
              + " adds=%.2fus/msg%n",
          r.rate(),
          r.redisMicros(),
          r.clientMicros(),
          m.rate(),
          m.clientMicros(),
          r.clientMicros() - m.clientMicros());
    }
  }

  /**
   * {@code n} message ids, 70 % unique: the first copies in order, half of the duplicates within 64
   * positions of their original (in flight beside it), the other half anywhere later.
   */
  static String[] workload(int n, Random random) {
    int unique = (int) Math.round(n * 0.7);
    List<String> ids = new ArrayList<>(n);
    for (int i = 0; i < unique; i++) {
      ids.add(Long.toHexString(random.nextLong()));
    }
    int dups = n - unique;
    for (int d = 0; d < dups; d++) {
      int of = random.nextInt(unique);
      String id = ids.get(of);
      int at =
          d % 2 == 0
              ? Math.min(ids.size(), of + 1 + random.nextInt(64))
              : of + 1 + random.nextInt(ids.size() - of);
      ids.add(Math.min(at, ids.size()), id);
    }
    return ids.toArray(String[]::new);
  }

  static Sample pipeline(
      BenchRedis redis, IdempotencyStore store, String[] ids, int concurrency, String name) {
    String queue = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    InMemorySource source = InMemorySource.create(queue);
    for (String id : ids) {
      source.publish(id, "{\"order\":\"" + id + "\",\"amount\":12}");
    }
    source.completeWhenDrained();
    AtomicInteger handled = new AtomicInteger();
    Pipeline<String, Integer> p =
        Onceflow.consume(source)
            .name(queue)
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).lease(LEASE).retain(RETENTION))
            .handle(m -> Mono.just(handled.incrementAndGet()))
            .deadLetterTo(InMemoryDeadLetters.create())
            .concurrency(concurrency)
            .build();
    long unique = Arrays.stream(ids).distinct().count();
    try {
      Sample s =
          measure(
              redis,
              name,
              ids.length,
              () -> {
                List<Outcome<Integer>> outcomes =
                    p.outcomes().collectList().block(Duration.ofMinutes(10));
                if (outcomes == null || outcomes.size() != ids.length) {
                  throw new IllegalStateException("outcomes: " + outcomes);
                }
              });
      if (handled.get() != unique || source.acked() != ids.length || !p.ledger().balanced()) {
        throw new IllegalStateException(
            name + ": handled " + handled + " of " + unique + ", ledger " + p.ledger());
      }
      return s;
    } finally {
      redis.clear("onceflow-bench:" + queue + ":");
    }
  }

  // ------------------------------------------------------------------ w: waiting for a replica

  static void replicas(int n, int inFlight) throws Exception {
    try (BenchRedis primary = BenchRedis.start(List.of());
        BenchRedis replica = BenchRedis.start(List.of())) {
      replica.command("REPLICAOF", "127.0.0.1", Integer.toString(primary.port));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!replica.command("INFO", "replication").contains("master_link_status:up")) {
        if (System.nanoTime() > end) {
          throw new IllegalStateException("the replica did not sync");
        }
        Thread.sleep(50);
      }
      RedisStoreOptions.Builder b =
          RedisStoreOptions.builder().standalone(primary.uri).keyPrefix("onceflow-bench");
      RedisStoreOptions plain = b.build();
      RedisStoreOptions waiting = withWait(b);
      List<Sample> without = new ArrayList<>();
      List<Sample> with = new ArrayList<>();
      try (RedisIdempotencyStore a = RedisIdempotencyStore.create(plain);
          RedisIdempotencyStore w = RedisIdempotencyStore.create(waiting)) {
        store(primary, a, n / 5, inFlight, "warmup");
        store(primary, w, n / 5, inFlight, "warmup");
        for (int round = 0; round < 3; round++) {
          without.add(store(primary, a, n, inFlight, "replicated-no-wait"));
          with.add(store(primary, w, n, inFlight, "replicated-wait-1"));
        }
      }
      Sample x = median(without);
      Sample y = median(with);
      System.out.printf(
          Locale.ROOT,
          "MEDIAN replicated no-wait msgs_per_s=%.0f | waitForReplicas(1) msgs_per_s=%.0f"
              + " (%.2f of no-wait)%n",
          x.rate(),
          y.rate(),
          y.rate() / x.rate());
    }
  }

  /** {@code waitForReplicas(1, 1s)}, by reflection so that the harness builds on older stores. */
  private static RedisStoreOptions withWait(RedisStoreOptions.Builder b) throws Exception {
    return ((RedisStoreOptions.Builder)
            RedisStoreOptions.Builder.class
                .getMethod("waitForReplicas", int.class, Duration.class)
                .invoke(b, 1, Duration.ofSeconds(1)))
        .build();
  }
}
