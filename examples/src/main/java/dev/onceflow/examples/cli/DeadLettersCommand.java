package dev.onceflow.examples.cli;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** {@code dead-letters}: lists dead letters with their reasons, leaving them where they are. */
@Command(
    name = "dead-letters",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Lists the dead letters of a source (its --dead-letter destination) with reason, attempts,"
          + " exception and origin. Nothing is removed: Kafka reads with a throwaway group and"
          + " commits nothing; RabbitMQ and SQS messages are returned to the queue (nack with"
          + " requeue / visibility 0) when the listing ends.",
      ""
    })
final class DeadLettersCommand implements Callable<Integer> {

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  @Mixin BrokerOptions broker = new BrokerOptions();

  @Mixin DeadLetterOption deadLetter = new DeadLetterOption();

  @Mixin DeadLetterScan scan = new DeadLetterScan();

  @Override
  public Integer call() {
    scan.validate(broker);
    PrintWriter out = spec.commandLine().getOut();
    String target = deadLetter.destination(broker);
    try (BrokerOptions brokers = broker) {
      List<Delivery> held = new CopyOnWriteArrayList<>();
      Map<String, Integer> byReason = new ConcurrentHashMap<>();
      long n =
          DeadLetterReading.read(
              brokers.source(
                  target, scan.maxMessages, "onceflow-dead-letters-" + UUID.randomUUID(), null),
              scan.maxMessages,
              scan.idleExit(),
              out,
              "listed",
              d -> {
                held.add(d);
                Envelope e = d.envelope();
                String reason = DeadLetterReading.reason(e);
                byReason.merge(reason, 1, Integer::sum);
                Map<String, String> h = e.headers();
                out.printf(
                    "dead letter: key=%s id=%s reason=%s attempts=%s pipeline=%s origin=%s"
                        + " exception=%s: %s%n",
                    DeadLetterReading.key(e),
                    e.messageId(),
                    reason,
                    h.getOrDefault(DeadLetter.ATTEMPTS, "?"),
                    h.getOrDefault(DeadLetter.PIPELINE, "?"),
                    h.getOrDefault(DeadLetter.ORIGIN, "?"),
                    h.getOrDefault(DeadLetter.EXCEPTION_CLASS, "-"),
                    h.getOrDefault(DeadLetter.EXCEPTION_MESSAGE, "-"));
                return Mono.empty();
              });
      // Return what was read: settlement after the read, so a requeue is not read again.
      Flux.fromIterable(held)
          .flatMap(d -> d.nack(Duration.ZERO).onErrorResume(e -> Mono.empty()), 16)
          .then()
          .block(Duration.ofSeconds(30));
      out.printf(
          "summary: deadLetters=%d byReason=%s from=%s%n",
          n, new TreeMap<>(byReason), brokers.describe(target));
      out.flush();
      return 0;
    }
  }
}
