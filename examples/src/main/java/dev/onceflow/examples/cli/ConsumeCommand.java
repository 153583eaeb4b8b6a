package dev.onceflow.examples.cli;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** {@code consume}: runs an onceflow pipeline whose handler applies one effect per message. */
@Command(
    name = "consume",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Consumes with an onceflow pipeline. Each message applies one effect:"
          + " HINCRBY <prefix>:<pipeline>:effects <message id> 1 (Redis with --redis, else in"
          + " memory). --effect transactional (default) commits it with the completion record,"
          + " so even kill -9 mid-stream cannot count a message twice; --effect plain runs it"
          + " from the handler (at-least-once: a crash between effect and record re-runs it).",
      "Redis keys: the store keeps <prefix>:<pipeline>:{<id>}:l (lease), :f (fence) and :r"
          + " (record); the braces are a Cluster hash tag. The effects hash is one key, so the CLI"
          + " needs a standalone Redis, not a Cluster (a transactional effect must share its"
          + " message's slot).",
      "Stops after --max-messages settled deliveries, after --idle-exit-seconds without one, or"
          + " on SIGTERM (graceful: stop pulling, drain up to --stop-timeout-seconds, release the"
          + " rest). Ends with a summary line.",
      ""
    })
final class ConsumeCommand implements Callable<Integer> {

  /** Effect mode. */
  enum EffectMode {
    transactional,
    plain
  }

  static final String EFFECTS = "effects";

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  @Mixin BrokerOptions broker = new BrokerOptions();
  @Mixin StoreOptions store = new StoreOptions();

  @Option(
      names = "--concurrency",
      defaultValue = "64",
      description = "Deliveries in flight at most (default: ${DEFAULT-VALUE}).")
  int concurrency = 64;

  @Mixin DeadLetterOption deadLetter = new DeadLetterOption();

  @Mixin TestHookOptions hooks = new TestHookOptions();

  @Option(
      names = "--effect",
      defaultValue = "transactional",
      description = "transactional (default) or plain.")
  EffectMode effect = EffectMode.transactional;

  @Option(
      names = "--fail-rate",
      defaultValue = "0",
      paramLabel = "F",
      description =
          "The handler throws a retryable error at this rate, 0 to 1 (default: ${DEFAULT-VALUE}).")
  double failRate;

  @Option(
      names = "--attempts",
      defaultValue = "5",
      description = "Handler attempts before dead-lettering (default: ${DEFAULT-VALUE}).")
  int attempts = 5;

  @Option(
      names = "--poison-header",
      defaultValue = "x-poison",
      paramLabel = "NAME",
      description = "Messages carrying this header fail for good (default: ${DEFAULT-VALUE}).")
  String poisonHeader = "x-poison";

  @Option(
      names = "--id-header",
      paramLabel = "NAME",
      description =
          "The header (Kafka, RabbitMQ) or message attribute (SQS) that carries the message id of"
              + " producers that are not onceflow, such as X-Message-Id. It is read before"
              + " onceflow-id; CloudEvents ids (ce_id, cloudEvents:id, ce-id) are recognised"
              + " without it.")
  @Nullable String idHeader;

  @Option(
      names = "--handler-delay-ms",
      defaultValue = "0",
      paramLabel = "N",
      description = "The handler waits this long (non-blocking) before its effect.")
  long handlerDelayMs;

  @Option(
      names = "--lease-seconds",
      defaultValue = "30",
      description = "Lease TTL (default: ${DEFAULT-VALUE}).")
  long leaseSeconds = 30;

  @Option(
      names = "--max-messages",
      defaultValue = "0",
      paramLabel = "N",
      description = "Stop after N settled deliveries (0: no limit).")
  long maxMessages;

  @Option(
      names = "--idle-exit-seconds",
      defaultValue = "0",
      paramLabel = "S",
      description = "Stop after S seconds without a settled delivery (0: never).")
  long idleExitSeconds;

  @Option(
      names = "--stop-timeout-seconds",
      defaultValue = "30",
      paramLabel = "S",
      description =
          "Graceful stop: how long in-flight deliveries may finish (default: ${DEFAULT-VALUE}).")
  long stopTimeoutSeconds = 30;

  @Option(
      names = "--progress-seconds",
      defaultValue = "1",
      paramLabel = "S",
      description = "Print a progress line every S seconds (0: never; default: ${DEFAULT-VALUE}).")
  long progressSeconds = 1;

  private final AtomicReference<@Nullable Integer> exit = new AtomicReference<>();

  @Override
  public Integer call() throws Exception {
    validate();
    PrintWriter out = spec.commandLine().getOut();
    String destination = broker.destination();
    String deadLetterTarget = deadLetter.destination(broker);
    String group = broker.group != null ? broker.group : store.pipeline;
    StoreChoice opened;
    try {
      opened = store.open();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    try (BrokerOptions brokers = broker;
        StoreChoice stores = opened;
        EventLog events = hooks.listener()) {
      MessageSource source =
          brokers.source(destination, Math.max(concurrency, 16), group, idHeader);
      DeadLetterSink sink = brokers.deadLetterSink(deadLetterTarget);
      Pipeline<String, Object> pipeline = pipeline(source, sink, stores, events);
      out.printf(
          "consuming %s with pipeline %s (%s, %s effects in %s; dead letters to %s)%n",
          brokers.describe(destination),
          store.pipeline,
          stores.description(),
          effect,
          stores.effectLocation(store.pipeline, EFFECTS),
          brokers.describe(deadLetterTarget));
      out.flush();
      return run(pipeline, stores, out);
    }
  }

  private void validate() {
    if (idHeader != null && idHeader.isBlank()) {
      throw usage("--id-header must not be blank");
    }
    if (concurrency < 1 || concurrency > 10_000) {
      throw usage("--concurrency must be between 1 and 10000, but was " + concurrency);
    }
    if (!(failRate >= 0 && failRate <= 1)) {
      throw usage("--fail-rate must be between 0 and 1, but was " + failRate);
    }
    if (attempts < 1) {
      throw usage("--attempts must be at least 1, but was " + attempts);
    }
    if (handlerDelayMs < 0) {
      throw usage("--handler-delay-ms must not be negative, but was " + handlerDelayMs);
    }
    if (leaseSeconds < 1) {
      throw usage("--lease-seconds must be positive, but was " + leaseSeconds);
    }
    if (maxMessages < 0 || idleExitSeconds < 0 || stopTimeoutSeconds < 0 || progressSeconds < 0) {
      throw usage(
          "--max-messages, --idle-exit-seconds, --stop-timeout-seconds and --progress-seconds"
              + " must not be negative");
    }
    if (hooks.crashAt != null) {
      try {
        EventLog.CrashPoint.parse(hooks.crashAt);
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
    }
    if (hooks.crashAfter < 1) {
      throw usage("--crash-after must be at least 1, but was " + hooks.crashAfter);
    }
    if (poisonHeader.isBlank()) {
      throw usage("--poison-header must not be blank");
    }
    if (!store.pipeline.matches("[A-Za-z0-9._-]{1,100}")) {
      throw usage(
          "--pipeline must be 1 to 100 letters, digits, '.', '_' or '-', but was '"
              + store.pipeline
              + "'");
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  private Pipeline<String, Object> pipeline(
      MessageSource source, DeadLetterSink sink, StoreChoice stores, EventLog events) {
    String name = store.pipeline;
    return Onceflow.consume(source)
        .name(name)
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(stores.store()).lease(Duration.ofSeconds(leaseSeconds)))
        .<Object>handleWithEffects(m -> handle(m, stores, name))
        .retry(
            Retries.exponential(attempts, Duration.ofMillis(20)).maxBackoff(Duration.ofSeconds(1)))
        .deadLetterTo(sink)
        .concurrency(concurrency)
        .listener(events)
        .build();
  }

  private Mono<Handled<Object>> handle(Message<String> m, StoreChoice stores, String name) {
    Mono<Long> delay =
        handlerDelayMs > 0 ? Mono.delay(Duration.ofMillis(handlerDelayMs)) : Mono.just(0L);
    return delay.then(
        Mono.defer(
            () -> {
              if (m.envelope().headers().containsKey(poisonHeader)) {
                return Mono.error(
                    new NonRetryableException(
                        "message " + m.key() + " carries the poison header " + poisonHeader));
              }
              if (failRate > 0 && ThreadLocalRandom.current().nextDouble() < failRate) {
                return Mono.error(
                    new IllegalStateException("simulated failure (--fail-rate " + failRate + ")"));
              }
              if (effect == EffectMode.transactional) {
                return Mono.just(Handled.<Object>of(null, Effect.hincrBy(EFFECTS, m.key(), 1)));
              }
              return stores
                  .plainHincrBy(name, EFFECTS, m.key(), 1)
                  .thenReturn(Handled.<Object>of(null));
            }));
  }

  private int run(Pipeline<String, Object> pipeline, StoreChoice stores, PrintWriter out)
      throws InterruptedException {
    long started = System.nanoTime();
    AtomicLong settled = new AtomicLong();
    AtomicLong lastSettled = new AtomicLong(System.nanoTime());
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    Disposable running =
        pipeline
            .outcomes()
            .subscribe(
                o -> {
                  lastSettled.set(System.nanoTime());
                  if (settled.incrementAndGet() == maxMessages) {
                    done.countDown();
                  }
                },
                e -> {
                  failure.set(e);
                  done.countDown();
                },
                done::countDown);
    Disposable ticker =
        Flux.interval(Duration.ofMillis(200), Schedulers.single())
            .subscribe(
                t -> {
                  long now = System.nanoTime();
                  if (idleExitSeconds > 0
                      && now - lastSettled.get() > Duration.ofSeconds(idleExitSeconds).toNanos()) {
                    done.countDown();
                  }
                  if (progressSeconds > 0 && (t + 1) % (progressSeconds * 5) == 0) {
                    out.println("progress: " + pipeline.ledger());
                    out.flush();
                  }
                });
    Thread hook =
        new Thread(
            () -> {
              out.println("SIGTERM: stopping gracefully");
              finish(pipeline, running, ticker, stores, failure, started, out);
            },
            "onceflow-cli-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      done.await();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or about to: it finishes the work
      }
    }
    return finish(pipeline, running, ticker, stores, failure, started, out);
  }

  /** Stops gracefully, prints the summary; idempotent (main thread and shutdown hook). */
  private synchronized int finish(
      Pipeline<String, Object> pipeline,
      Disposable running,
      Disposable ticker,
      StoreChoice stores,
      AtomicReference<@Nullable Throwable> failure,
      long started,
      PrintWriter out) {
    Integer known = exit.get();
    if (known != null) {
      return known;
    }
    Duration timeout = Duration.ofSeconds(stopTimeoutSeconds);
    try {
      pipeline.stop(timeout).block(timeout.plusSeconds(30));
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    }
    running.dispose();
    ticker.dispose();
    double seconds = (System.nanoTime() - started) / 1e9;
    Ledger l = pipeline.ledger();
    Map<String, String> effects;
    try {
      effects = stores.effects(store.pipeline, EFFECTS);
    } catch (RuntimeException e) {
      effects = Map.of();
      failure.compareAndSet(null, e);
    }
    long once = effects.values().stream().filter("1"::equals).count();
    Throwable f = failure.get();
    out.printf(
        "summary: pipeline=%s store=%s effect=%s delivered=%d processed=%d duplicates=%d"
            + " deadLettered=%d nacked=%d inFlight=%d balanced=%s effectIds=%d appliedOnce=%d"
            + " appliedMoreThanOnce=%d elapsed=%.2fs rate=%.0f/s%s%n",
        store.pipeline,
        stores.isRedis() ? "redis" : "memory",
        effect,
        l.delivered(),
        l.processed(),
        l.duplicates(),
        l.deadLettered(),
        l.nacked(),
        l.inFlight(),
        l.balanced(),
        effects.size(),
        once,
        effects.size() - once,
        seconds,
        l.delivered() / Math.max(seconds, 1e-3),
        f == null ? "" : " error=" + f);
    out.flush();
    int code = f == null && l.balanced() && l.inFlight() == 0 ? 0 : 1;
    exit.set(code);
    return code;
  }
}
