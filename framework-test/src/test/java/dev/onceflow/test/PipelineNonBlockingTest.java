package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.store.Effect;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The pipeline makes no blocking call on a non-blocking thread: under BlockHound, in a JVM of its
 * own (see this module's pom), every branch that runs on the parallel scheduler passes.
 */
class PipelineNonBlockingTest {

  @BeforeAll
  static void installBlockHound() {
    BlockHound.install(
        b -> b.allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "writeBytes"));
  }

  @Test
  void blockHoundIsActive() {
    Throwable e =
        Mono.delay(Duration.ofMillis(1))
            .doOnNext(
                x -> {
                  try {
                    Thread.sleep(1);
                  } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                  }
                })
            .then()
            .materialize()
            .block(Duration.ofSeconds(5))
            .getThrowable();
    assertThat(e).isInstanceOf(BlockingOperationError.class);
  }

  @Test
  void everyBranchRunsWithoutBlockingOnParallelThreads() {
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    InMemorySource source = InMemorySource.create("orders", Schedulers.parallel());
    InMemoryDeadLetters deadLetters = InMemoryDeadLetters.create();
    AtomicInteger attempts = new AtomicInteger();
    for (int i = 0; i < 500; i++) {
      source.publish("m" + (i % 400), i % 50 == 7 ? "poison" : "p" + i); // duplicates and poison
    }
    source.publish(null, "no id").completeWhenDrained();
    Pipeline<String, String> p =
        Onceflow.consume(source)
            .name("orders")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).fingerprint(false))
            .<String>handleWithEffects(
                m ->
                    Mono.delay(Duration.ofMillis(1))
                        .then(
                            Mono.defer(
                                () -> {
                                  if (m.payload().equals("poison")) {
                                    return Mono.error(new IllegalStateException("poison"));
                                  }
                                  if (attempts.incrementAndGet() % 10 == 0) {
                                    return Mono.error(new IllegalStateException("transient"));
                                  }
                                  return Mono.just(
                                      Handled.of("ok", Effect.hincrBy("effects", m.key(), 1)));
                                })))
            .retry(Retries.exponential(3, Duration.ofMillis(2)))
            .deadLetterTo(deadLetters)
            .concurrency(32)
            .build();

    p.outcomes().subscribeOn(Schedulers.parallel()).then().block(Duration.ofSeconds(60));

    assertThat(p.ledger().balanced()).isTrue();
    assertThat(p.ledger().inFlight()).isZero();
    assertThat(p.ledger().delivered()).isEqualTo(501);
    assertThat(deadLetters.deadLetters()).isNotEmpty();
    assertThat(store.data().hash("orders", "effects").values()).allMatch("1"::equals);
  }
}
