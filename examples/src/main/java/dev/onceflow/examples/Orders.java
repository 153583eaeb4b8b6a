package dev.onceflow.examples;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.handler.Handled;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import dev.onceflow.store.IdempotencyStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The one order pipeline every broker example runs. Swapping the broker changes only the {@code
 * source} and the {@code deadLetters} passed in: the pipeline is the same.
 */
public final class Orders {

  /** The effect hash: field = order id, value = how many times its effect was applied. */
  public static final String EFFECTS = "charged";

  private Orders() {}

  /**
   * Decodes an order as UTF-8 JSON text, deduplicates it by message id, and charges it once: one
   * transactional {@code HINCRBY charged <order id> 1} committed with the completion record. An
   * order whose payload says {@code "poison"} fails for good and is dead-lettered.
   */
  public static Pipeline<String, String> pipeline(
      String name, MessageSource source, DeadLetterSink deadLetters, IdempotencyStore store) {
    return Onceflow.consume(source)
        .name(name)
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(30)))
        .<String>handleWithEffects(
            msg -> {
              if (msg.payload().contains("\"poison\"")) {
                return Mono.error(
                    new NonRetryableException("order " + msg.key() + " is malformed"));
              }
              return Mono.just(Handled.of("charged", Effect.hincrBy(EFFECTS, msg.key(), 1)));
            })
        .retry(Retries.exponential(5, Duration.ofMillis(100)).jitter(0.5))
        .deadLetterTo(deadLetters)
        .concurrency(64)
        .build();
  }

  /** The payload of order {@code i}. */
  public static byte[] payload(int i) {
    return ("{\"order\":" + i + ",\"amount\":" + (i % 97 + 1) + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Runs {@code pipeline} until it has settled {@code deliveries} deliveries with none in flight
   * (or {@code timeout} passed), then stops it gracefully. Blocks the calling thread.
   */
  public static Ledger runUntilSettled(Pipeline<?, ?> pipeline, long deliveries, Duration timeout) {
    return runUntilSettled(pipeline, deliveries, timeout, () -> {});
  }

  /** As {@link #runUntilSettled(Pipeline, long, Duration)}, running {@code afterStart} first. */
  public static Ledger runUntilSettled(
      Pipeline<?, ?> pipeline, long deliveries, Duration timeout, Runnable afterStart) {
    Disposable running = pipeline.start();
    afterStart.run();
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (System.nanoTime() < deadline) {
        Ledger l = pipeline.ledger();
        if (l.delivered() >= deliveries && l.inFlight() == 0) {
          break;
        }
        Mono.delay(Duration.ofMillis(100)).block();
      }
      pipeline.stop(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
    } finally {
      running.dispose();
    }
    return pipeline.ledger();
  }
}
