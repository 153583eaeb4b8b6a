package dev.onceflow.examples.cli;

import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.store.IdempotencyStore;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: the pipeline's throughput and latency on a chosen broker and store, with
 * deduplication on, off, or both in one process over the same workload.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measures an onceflow pipeline (trivial handler) on a broker and a store. Each run publishes"
          + " --messages messages (a --duplicates fraction of them re-send an earlier id, half of"
          + " those within 64 positions of the original) to a fresh topic or queue, either all"
          + " before consuming (backlog: msgs/s from the first to the last settled delivery) or"
          + " paced at --rate messages/s while consuming (open loop: latency from each message's"
          + " due time).",
      "Latency is publish-to-settled (due time to the outcome, after the ack), in microseconds,"
          + " from an HdrHistogram; with --dedup both at a --rate, the difference of on and off is"
          + " the latency deduplication adds.",
      "Prints one key=value line per run (bench:), the on/off ratio (bench-ratio:) and at a rate"
          + " the added latency (bench-added-latency:). Exits 0 when every run held: with dedup"
          + " every message handled exactly once, without every delivery handled.",
      ""
    })
final class BenchCommand implements Callable<Integer> {

  /** Which runs. */
  enum DedupMode {
    on,
    off,
    both
  }

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  @Option(
      names = "--broker",
      required = true,
      paramLabel = "BROKER",
      description = "memory (an in-memory queue), kafka, rabbitmq or sqs.")
  BenchBroker.@Nullable Kind broker;

  @Option(
      names = "--bootstrap-servers",
      defaultValue = BenchBroker.EMBEDDED,
      paramLabel = "HOST:PORT,...",
      description =
          "Kafka: bootstrap servers, or `embedded`: a KRaft broker in this JVM (default).")
  String bootstrapServers = BenchBroker.EMBEDDED;

  @Option(
      names = "--partitions",
      defaultValue = "3",
      description = "Kafka: partitions of each run's topic (default: ${DEFAULT-VALUE}).")
  int partitions = 3;

  @Option(
      names = "--amqp-uri",
      defaultValue = "amqp://guest:guest@127.0.0.1:5672",
      paramLabel = "URI",
      description = "RabbitMQ: the AMQP URI (default: amqp://guest:***@127.0.0.1:5672).")
  String amqpUri = "amqp://guest:guest@127.0.0.1:5672";

  @Option(
      names = "--sqs-endpoint",
      defaultValue = BenchBroker.EMBEDDED,
      paramLabel = "URL",
      description =
          "SQS: an endpoint such as http://127.0.0.1:9324, or `embedded`: ElasticMQ in"
              + " this JVM (default).")
  String sqsEndpoint = BenchBroker.EMBEDDED;

  @Option(
      names = "--region",
      defaultValue = "us-east-1",
      description = "SQS: the region (default: ${DEFAULT-VALUE}).")
  String region = "us-east-1";

  @Option(
      names = "--redis",
      paramLabel = "URI",
      description = "The Redis store (standalone), e.g. redis://127.0.0.1:6379; else in memory.")
  @Nullable String redis;

  @Option(
      names = "--redis-key-prefix",
      paramLabel = "PREFIX",
      description = "Prefix of the store's Redis keys (default: onceflow-bench-<random>).")
  @Nullable String keyPrefix;

  @Option(
      names = "--dedup",
      defaultValue = "both",
      description = "on, off, or both: the two runs in one process (default: ${DEFAULT-VALUE}).")
  DedupMode dedup = DedupMode.both;

  @Option(
      names = "--messages",
      defaultValue = "100000",
      paramLabel = "N",
      description = "Messages per measured run, duplicates included (default: ${DEFAULT-VALUE}).")
  int messages = 100_000;

  @Option(
      names = "--duplicates",
      defaultValue = "0.3",
      paramLabel = "F",
      description =
          "Fraction of the messages that re-send an earlier id (default: ${DEFAULT-VALUE}).")
  double duplicates = 0.3;

  @Option(
      names = "--rate",
      defaultValue = "0",
      paramLabel = "R",
      description = "Publish paced at R messages/s while consuming (0: publish the backlog first).")
  double rate;

  @Option(
      names = "--warmup",
      defaultValue = "-1",
      paramLabel = "N",
      description =
          "Warm-up messages, not measured: backlog mode runs them first (each dedup mode),"
              + " at a rate they lead each run (default: 20000 or fewer, at a rate 5 s of it).")
  int warmup = -1;

  @Option(
      names = "--rounds",
      defaultValue = "1",
      description = "Measured rounds (default: ${DEFAULT-VALUE}).")
  int rounds = 1;

  @Option(
      names = "--concurrency",
      defaultValue = "256",
      description = "The pipeline's concurrency (default: ${DEFAULT-VALUE}).")
  int concurrency = 256;

  @Option(
      names = "--max-in-flight",
      defaultValue = "0",
      paramLabel = "N",
      description = "Deliveries the source holds unsettled (default: the concurrency).")
  int maxInFlight;

  @Option(
      names = "--in-progress-backoff-ms",
      defaultValue = "-1",
      paramLabel = "MS",
      description =
          "The engine's wait when a duplicate meets its original's live lease (default: Dedup's).")
  long inProgressBackoffMs = -1;

  @Option(
      names = "--timeout-seconds",
      defaultValue = "900",
      description = "Give up on a run after this long (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds = 900;

  @Override
  public Integer call() throws Exception {
    validate();
    PrintWriter out = spec.commandLine().getOut();
    String id = UUID.randomUUID().toString().substring(0, 8);
    String prefix = keyPrefix != null ? keyPrefix : "onceflow-bench-" + id;
    boolean paced = rate > 0;
    int warm =
        warmup >= 0
            ? warmup
            : paced ? (int) Math.min(rate * 5, 200_000) : Math.min(messages, 20_000);
    int inFlight = maxInFlight > 0 ? maxInFlight : concurrency;
    Duration backoff =
        inProgressBackoffMs >= 0
            ? Duration.ofMillis(inProgressBackoffMs)
            : Dedup.DEFAULT_IN_PROGRESS_BACKOFF;
    BenchWorkload workload =
        BenchWorkload.generate(paced ? warm + messages : messages, duplicates, 42);
    List<Boolean> modes =
        switch (dedup) {
          case on -> List.of(true);
          case off -> List.of(false);
          case both -> List.of(false, true);
        };
    try (BenchBroker target = open();
        StoreChoice redisStore = redis == null ? null : StoreChoice.redis(redis, prefix)) {
      try {
        return bench(out, id, warm, inFlight, backoff, workload, modes, paced, target, redisStore);
      } finally {
        cleanUp(out, redisStore, prefix);
      }
    }
  }

  /** A made-up prefix is deleted at the end; a prefix the user chose is left for inspection. */
  private void cleanUp(PrintWriter out, @Nullable StoreChoice redisStore, String prefix) {
    if (redisStore == null) {
      return;
    }
    if (keyPrefix != null) {
      out.printf(
          Locale.ROOT,
          "bench-cleanup: prefix=%s deleted=0 (chosen with --redis-key-prefix)%n",
          prefix);
    } else {
      out.printf(
          Locale.ROOT,
          "bench-cleanup: prefix=%s deleted=%d%n",
          prefix,
          redisStore.deleteKeysUnder(prefix));
    }
    out.flush();
  }

  private int bench(
      PrintWriter out,
      String id,
      int warm,
      int inFlight,
      Duration backoff,
      BenchWorkload workload,
      List<Boolean> modes,
      boolean paced,
      BenchBroker target,
      @Nullable StoreChoice redisStore)
      throws Exception {
    String storeName = redisStore == null ? "memory" : "redis";
    out.printf(
        Locale.ROOT,
        "bench-setup: broker=%s store=%s mode=%s messages=%d unique=%d duplicates=%d"
            + " warmup=%d rate=%.0f concurrency=%d max_in_flight=%d in_progress_backoff_ms=%d"
            + " rounds=%d cores=%d max_heap_mb=%d load1=%.2f%n",
        target.kind(),
        storeName,
        paced ? "rate" : "backlog",
        paced ? messages : workload.messages(),
        workload.uniques(),
        workload.duplicates(),
        warm,
        rate,
        concurrency,
        inFlight,
        backoff.toMillis(),
        rounds,
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() / 1048576,
        load());
    out.printf(
        Locale.ROOT,
        "# %s; store: %s%n",
        target.description(),
        redisStore == null ? "in memory (a fresh one per run)" : redisStore.description());
    out.flush();
    List<String> names = new ArrayList<>();
    for (boolean d : modes) {
      if (!paced && warm > 0) {
        names.add("bench-" + id + "-w" + (d ? "on" : "off"));
      }
      for (int round = 1; round <= rounds; round++) {
        names.add("bench-" + id + "-" + round + (d ? "on" : "off"));
      }
    }
    target.prepare(names);
    boolean held = true;
    if (!paced && warm > 0) {
      BenchWorkload w = BenchWorkload.generate(warm, duplicates, 7);
      for (boolean d : modes) {
        BenchRun.Result r =
            run(target, w, d, redisStore, id + "-w" + (d ? "on" : "off"), inFlight, backoff, 0);
        out.printf(
            Locale.ROOT,
            "bench-warmup: dedup=%s messages=%d msgs_per_s=%.0f held=%s check=%s%n",
            d ? "on" : "off",
            r.messages(),
            r.msgsPerS(),
            r.held(),
            r.check());
        out.flush();
        held &= r.held();
      }
    }
    List<Double> ratios = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      List<Boolean> order = new ArrayList<>(modes);
      if (round % 2 == 0) {
        java.util.Collections.reverse(order);
      }
      BenchRun.Result on = null;
      BenchRun.Result off = null;
      for (boolean d : order) {
        BenchRun.Result r =
            run(
                target,
                workload,
                d,
                redisStore,
                id + "-" + round + (d ? "on" : "off"),
                inFlight,
                backoff,
                warm);
        print(out, round, target.kind(), storeName, paced, r);
        held &= r.held();
        if (d) {
          on = r;
        } else {
          off = r;
        }
      }
      if (on != null && off != null) {
        double ratio = off.msgsPerS() > 0 ? on.msgsPerS() / off.msgsPerS() : 0;
        ratios.add(ratio);
        out.printf(
            Locale.ROOT,
            "bench-ratio: round=%d broker=%s store=%s on_msgs_per_s=%.0f off_msgs_per_s=%.0f"
                + " ratio=%.3f target=0.7 met=%s load1=%.2f%n",
            round,
            target.kind(),
            storeName,
            on.msgsPerS(),
            off.msgsPerS(),
            ratio,
            ratio >= 0.7,
            load());
        if (paced) {
          Histogram a = on.latencyMicros();
          Histogram b = off.latencyMicros();
          long p99 = a.getValueAtPercentile(99) - b.getValueAtPercentile(99);
          out.printf(
              Locale.ROOT,
              "bench-added-latency: round=%d broker=%s store=%s rate=%.0f p50_us=%d p99_us=%d"
                  + " p999_us=%d max_us=%d p99_target_us=1000 met=%s load1=%.2f%n",
              round,
              target.kind(),
              storeName,
              rate,
              a.getValueAtPercentile(50) - b.getValueAtPercentile(50),
              p99,
              a.getValueAtPercentile(99.9) - b.getValueAtPercentile(99.9),
              a.getMaxValue() - b.getMaxValue(),
              p99 < 1000,
              load());
        }
      }
      out.flush();
    }
    if (ratios.size() > 1) {
      List<Double> sorted = new ArrayList<>(ratios);
      sorted.sort(null);
      out.printf(
          Locale.ROOT,
          "bench-summary: rounds=%d ratio_median=%.3f ratio_min=%.3f ratio_max=%.3f%n",
          ratios.size(),
          sorted.get(sorted.size() / 2),
          sorted.get(0),
          sorted.get(sorted.size() - 1));
    }
    out.printf(Locale.ROOT, "bench-end: held=%s%n", held);
    out.flush();
    return held ? 0 : 1;
  }

  private BenchRun.Result run(
      BenchBroker target,
      BenchWorkload w,
      boolean dedupOn,
      @Nullable StoreChoice redisStore,
      String runId,
      int inFlight,
      Duration backoff,
      int warm)
      throws InterruptedException {
    IdempotencyStore store = null;
    if (dedupOn) {
      store = redisStore != null ? redisStore.store() : InMemoryIdempotencyStore.create();
    }
    try (BenchBroker.Destination d = target.create("bench-" + runId)) {
      return BenchRun.run(
          d,
          w,
          store,
          new BenchRun.Settings(
              "bench-" + runId,
              concurrency,
              inFlight,
              rate,
              warm,
              backoff,
              Duration.ofSeconds(timeoutSeconds)));
    }
  }

  private static void print(
      PrintWriter out,
      int round,
      BenchBroker.Kind broker,
      String store,
      boolean paced,
      BenchRun.Result r) {
    Histogram h = r.latencyMicros();
    out.printf(
        Locale.ROOT,
        "bench: round=%d broker=%s store=%s dedup=%s mode=%s messages=%d unique=%d"
            + " msgs_per_s=%.0f seconds=%.2f publish_s=%.2f latency=%s"
            + " p50=%d p99=%d p999=%d max=%d measured=%d processed=%d skipped=%d dead=%d nacked=%d"
            + " exactly_once=%s held=%s check=%s cpu_us_per_msg=%.1f heap_peak_mb=%.0f heap_after_gc_mb=%.0f gc=%d"
            + " gc_ms=%d load1=%.2f%n",
        round,
        broker,
        r.dedup() ? store : "none",
        r.dedup() ? "on" : "off",
        paced ? "rate" : "backlog",
        r.messages(),
        r.uniques(),
        r.msgsPerS(),
        r.seconds(),
        r.publishSeconds(),
        paced ? "publish_to_settled_us" : "backlog_sojourn_us",
        h.getValueAtPercentile(50),
        h.getValueAtPercentile(99),
        h.getValueAtPercentile(99.9),
        h.getMaxValue(),
        h.getTotalCount(),
        r.ledger().processed(),
        r.ledger().duplicates(),
        r.ledger().deadLettered(),
        r.ledger().nacked(),
        r.dedup() ? Boolean.toString(r.held()) : "n/a",
        r.held(),
        r.check(),
        r.cpuMicrosPerMessage(),
        r.heapPeakMb(),
        r.heapUsedAfterMb(),
        r.gcCount(),
        r.gcMillis(),
        load());
    out.flush();
  }

  private BenchBroker open() {
    BenchBroker.Kind kind = broker;
    if (kind == null) {
      throw usage("--broker is required: memory, kafka, rabbitmq or sqs");
    }
    return switch (kind) {
      case memory -> BenchBroker.memory();
      case kafka -> BenchBroker.kafka(bootstrapServers, partitions);
      case rabbitmq -> BenchBroker.rabbit(amqpUri);
      case sqs -> BenchBroker.sqs(sqsEndpoint, region);
    };
  }

  private static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private void validate() {
    if (messages < 1) {
      throw usage("--messages must be positive, but was " + messages);
    }
    if (!(duplicates >= 0 && duplicates < 1)) {
      throw usage("--duplicates must be at least 0 and below 1, but was " + duplicates);
    }
    if (!(rate >= 0)) {
      throw usage("--rate must not be negative, but was " + rate);
    }
    if (concurrency < 1 || concurrency > 10_000) {
      throw usage("--concurrency must be between 1 and 10000, but was " + concurrency);
    }
    if (rounds < 1 || partitions < 1 || timeoutSeconds < 1 || maxInFlight < 0) {
      throw usage("--rounds, --partitions and --timeout-seconds must be positive");
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
