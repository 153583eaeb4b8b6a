package dev.onceflow.examples.cli;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetter;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Reads a dead-letter destination until it is idle, with a progress line. */
final class DeadLetterReading {

  private DeadLetterReading() {}

  /**
   * Reads up to {@code max} deliveries from {@code source}, handing each to {@code each} (at most
   * 16 at once), and stops when none arrived for {@code idle} (the first may take {@code idle} plus
   * 10 s: a consumer group needs time to join).
   *
   * @return how many deliveries were read
   */
  static long read(
      MessageSource source,
      int max,
      Duration idle,
      PrintWriter out,
      String what,
      Function<Delivery, Mono<?>> each) {
    AtomicLong seen = new AtomicLong();
    Disposable progress =
        Flux.interval(Duration.ofSeconds(1), Schedulers.single())
            .subscribe(
                t -> {
                  out.printf("progress: %s %d%n", what, seen.get());
                  out.flush();
                });
    try {
      source
          .receive()
          .take(max)
          .timeout(Mono.delay(idle.plusSeconds(10)), d -> Mono.delay(idle))
          .onErrorResume(TimeoutException.class, e -> Mono.empty())
          .doOnNext(d -> seen.incrementAndGet())
          .flatMap(each, 16)
          .then()
          .block();
    } finally {
      progress.dispose();
    }
    return seen.get();
  }

  /** The dead-letter key (the deduplication key the pipeline used), else the message id. */
  static String key(Envelope e) {
    String key = e.headers().get(DeadLetter.DEDUP_KEY);
    if (key != null) {
      return key;
    }
    return e.messageId() == null ? "<no id>" : e.messageId();
  }

  static String reason(Envelope e) {
    return e.headers().getOrDefault(DeadLetter.REASON, "UNKNOWN");
  }
}
