package dev.onceflow.examples.cli;

import dev.onceflow.core.Envelope;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
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

/** {@code publish}: an order stream with duplicates (same id re-sent) and poison messages. */
@Command(
    name = "publish",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Publishes --count orders with the onceflow header convention (onceflow-id <prefix><n>,"
          + " onceflow-key customer-<n mod keys>) through the broker's publisher (Kafka:"
          + " idempotent producer, acks=all; RabbitMQ: publisher confirms; SQS: SendMessage)."
          + " A fraction --duplicate-rate is sent twice with the same id; a fraction --poison-rate"
          + " carries the poison header, which `consume` fails for good.",
      ""
    })
final class PublishCommand implements Callable<Integer> {

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  @Mixin BrokerOptions broker = new BrokerOptions();

  @Option(names = "--count", required = true, paramLabel = "N", description = "Orders to publish.")
  int count;

  @Option(
      names = "--duplicate-rate",
      defaultValue = "0",
      paramLabel = "R",
      description =
          "Fraction of orders re-sent with the same id, 0 to 1 (default: ${DEFAULT-VALUE}).")
  double duplicateRate;

  @Option(
      names = "--poison-rate",
      defaultValue = "0",
      paramLabel = "P",
      description =
          "Fraction of orders that carry the poison header, 0 to 1 (default: ${DEFAULT-VALUE}).")
  double poisonRate;

  @Option(
      names = "--poison-header",
      defaultValue = "x-poison",
      paramLabel = "NAME",
      description = "The poison header (default: ${DEFAULT-VALUE}).")
  String poisonHeader = "x-poison";

  @Option(
      names = "--id-prefix",
      defaultValue = "order-",
      paramLabel = "PREFIX",
      description = "Message ids are PREFIX + n (default: ${DEFAULT-VALUE}).")
  String idPrefix = "order-";

  @Option(
      names = "--keys",
      defaultValue = "100",
      description = "Distinct entity keys (default: ${DEFAULT-VALUE}).")
  int keys = 100;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Random seed of duplicates and poison (default: ${DEFAULT-VALUE}).")
  long seed = 42;

  @Option(
      names = "--publish-concurrency",
      defaultValue = "64",
      description =
          "Publishes awaiting the broker's acknowledgement at once (default: ${DEFAULT-VALUE}).")
  int publishConcurrency = 64;

  @Override
  public Integer call() {
    if (count < 1) {
      throw usage("--count must be positive, but was " + count);
    }
    if (!(duplicateRate >= 0 && duplicateRate <= 1)) {
      throw usage("--duplicate-rate must be between 0 and 1, but was " + duplicateRate);
    }
    if (!(poisonRate >= 0 && poisonRate <= 1)) {
      throw usage("--poison-rate must be between 0 and 1, but was " + poisonRate);
    }
    if (keys < 1 || publishConcurrency < 1) {
      throw usage("--keys and --publish-concurrency must be positive");
    }
    if (idPrefix.isBlank()) {
      throw usage("--id-prefix must not be blank");
    }
    PrintWriter out = spec.commandLine().getOut();
    String destination = broker.destination();
    try (BrokerOptions brokers = broker) {
      Function<Envelope, Mono<Void>> publisher = brokers.publisher(destination);
      Random random = new Random(seed);
      List<Envelope> messages = new ArrayList<>();
      int duplicates = 0;
      int poison = 0;
      for (int i = 0; i < count; i++) {
        boolean isPoison = random.nextDouble() < poisonRate;
        Envelope.Builder b =
            Envelope.builder()
                .messageId(idPrefix + i)
                .entityKey("customer-" + (i % keys))
                .timestamp(Instant.now())
                .payload(
                    ("{\"order\":" + i + ",\"amount\":" + (i % 97 + 1) + "}")
                        .getBytes(StandardCharsets.UTF_8));
        if (isPoison) {
          b.header(poisonHeader, "true");
          poison++;
        }
        Envelope e = b.build();
        messages.add(e);
        if (random.nextDouble() < duplicateRate) {
          messages.add(e); // the producer re-sent it: same id
          duplicates++;
        }
      }
      long started = System.nanoTime();
      AtomicLong sent = new AtomicLong();
      Disposable progress =
          Flux.interval(Duration.ofSeconds(1), Schedulers.single())
              .subscribe(
                  t -> {
                    out.printf("progress: published %d/%d%n", sent.get(), messages.size());
                    out.flush();
                  });
      try {
        Flux.fromIterable(messages)
            .flatMap(
                e -> publisher.apply(e).doOnSuccess(v -> sent.incrementAndGet()),
                publishConcurrency)
            .then()
            .block(Duration.ofMinutes(10));
      } finally {
        progress.dispose();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      out.printf(
          "summary: published=%d orders=%d duplicates=%d poison=%d to=%s elapsed=%.2fs"
              + " rate=%.0f/s%n",
          messages.size(),
          count,
          duplicates,
          poison,
          brokers.describe(destination),
          seconds,
          messages.size() / Math.max(seconds, 1e-3));
      out.flush();
      return 0;
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
