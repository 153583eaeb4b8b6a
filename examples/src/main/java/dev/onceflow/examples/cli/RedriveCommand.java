package dev.onceflow.examples.cli;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.store.RecordedOutcome;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Mono;

/** {@code redrive}: sends dead letters back to their source, ids unchanged, with a redrive mark. */
@Command(
    name = "redrive",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Sends the dead letters of --dead-letter back to the source destination with their id"
          + " unchanged and the redrive mark (onceflow-redrive: true), without the onceflow-dlq-*"
          + " metadata, then removes them from the dead-letter destination (Kafka: commits in"
          + " group <pipeline>-redrive). A key the store already holds as PROCESSED is skipped"
          + " (dead letters can be stale); a key recorded DEAD_LETTERED yields to its redriven"
          + " copy, so the redrive is processed once and not swallowed as a duplicate. Needs the"
          + " store the consumer uses (--redis, --pipeline).",
      ""
    })
final class RedriveCommand implements Callable<Integer> {

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  @Mixin BrokerOptions broker = new BrokerOptions();
  @Mixin StoreOptions store = new StoreOptions();

  @Mixin DeadLetterOption deadLetter = new DeadLetterOption();

  @Mixin DeadLetterScan scan = new DeadLetterScan();

  @Override
  public Integer call() {
    scan.validate(broker);
    PrintWriter out = spec.commandLine().getOut();
    String destination = broker.destination();
    String target = deadLetter.destination(broker);
    try (BrokerOptions brokers = broker;
        StoreChoice stores = store.open()) {
      if (!stores.isRedis()) {
        out.println(
            "warning: no --redis: the in-memory store of this process knows no keys, so no"
                + " dead letter is skipped as already processed");
      }
      Function<Envelope, Mono<Void>> publisher = brokers.publisher(destination);
      AtomicLong redriven = new AtomicLong();
      AtomicLong skipped = new AtomicLong();
      long n =
          DeadLetterReading.read(
              brokers.source(target, scan.maxMessages, store.pipeline + "-redrive", null),
              scan.maxMessages,
              scan.idleExit(),
              out,
              "read",
              d -> {
                Envelope e = d.envelope();
                String key = DeadLetterReading.key(e);
                return stores
                    .store()
                    .find(store.pipeline, key)
                    .map(r -> r.outcome() == RecordedOutcome.PROCESSED)
                    .defaultIfEmpty(false)
                    .flatMap(
                        processed -> {
                          if (processed) {
                            skipped.incrementAndGet();
                            out.printf("skipped %s: already PROCESSED%n", key);
                            return d.ack();
                          }
                          return publisher
                              .apply(redriveCopy(e))
                              .then(d.ack())
                              .doOnSuccess(
                                  v -> {
                                    redriven.incrementAndGet();
                                    out.printf(
                                        "redriven %s (%s)%n", key, DeadLetterReading.reason(e));
                                  });
                        });
              });
      out.printf(
          "summary: read=%d redriven=%d skippedProcessed=%d to=%s%n",
          n, redriven.get(), skipped.get(), brokers.describe(destination));
      out.flush();
      return 0;
    }
  }

  /** The original message: same id, payload and headers, without dead-letter metadata, marked. */
  static Envelope redriveCopy(Envelope deadLetter) {
    Map<String, String> headers = new LinkedHashMap<>();
    deadLetter
        .headers()
        .forEach(
            (k, v) -> {
              if (!k.startsWith("onceflow-dlq-") && !k.startsWith("sqs-")) {
                headers.put(k, v);
              }
            });
    headers.put(HeaderConvention.REDRIVE, "true");
    Envelope.Builder b = Envelope.builder();
    HeaderConvention.apply(b, headers);
    return b.messageId(deadLetter.messageId()).payload(deadLetter.payload()).redrive(true).build();
  }
}
