package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.core.Origin;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.handler.Message;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.NonRetryableException;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.store.IdempotencyStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The conformance suite every broker adapter passes, on its real broker. An adapter's test extends
 * it and says how to make a source, publish into the broker, dead-letter, and read dead letters
 * back. Each test uses a destination of its own from {@link #newDestination()}.
 *
 * <p>What it checks: ack after record; nack redelivers; unacked deliveries come back after an
 * abrupt stop; duplicates are handled once; dead letters carry the standard metadata; the in-flight
 * bound holds; graceful stop drains; the envelope convention round-trips.
 */
public abstract class AdapterConformance {

  /** How long a test waits for the broker at most. */
  protected Duration timeout() {
    return Duration.ofSeconds(60);
  }

  /** A fresh destination (topic, queue) with nothing in it, created if the broker needs that. */
  protected abstract String newDestination();

  /** A source over {@code destination}, in a consumer group shared by calls with the same one. */
  protected abstract MessageSource source(String destination);

  /**
   * Publishes {@code message} into {@code destination} with the header convention; returns when the
   * broker accepted it.
   */
  protected abstract void publish(String destination, Envelope message);

  /** A dead-letter sink for {@code destination} (its dead-letter topic or queue). */
  protected abstract DeadLetterSink deadLetterSink(String destination);

  /**
   * The headers of the dead letters of {@code destination} the broker holds, waiting for {@code
   * count}.
   */
  protected abstract List<Map<String, String>> readDeadLetters(String destination, int count);

  /**
   * Messages of {@code destination} not yet acked on the broker (ready + unacked), or -1 if the
   * broker cannot tell (Kafka: use committed offsets instead).
   */
  protected abstract long remaining(String destination);

  protected static Envelope message(String id, String payload) {
    return Envelope.builder()
        .messageId(id)
        .payload(payload.getBytes(StandardCharsets.UTF_8))
        .origin(Origin.kafka("unused", -1, -1))
        .build();
  }

  private Pipeline<String, Object> pipeline(
      String destination,
      IdempotencyStore store,
      Function<Message<String>, Mono<Object>> handler,
      int concurrency) {
    return Onceflow.consume(source(destination))
        .name("conformance")
        .decode(Decoder.utf8())
        .deduplicate(Dedup.byMessageId(store).lease(Duration.ofSeconds(10)))
        .handle(handler::apply)
        .deadLetterTo(deadLetterSink(destination))
        .concurrency(concurrency)
        .build();
  }

  private List<Outcome<Object>> run(Pipeline<String, Object> p, int outcomes) {
    List<Outcome<Object>> got = p.outcomes().take(outcomes).collectList().block(timeout());
    assertThat(got).as("outcomes within %s", timeout()).hasSize(outcomes);
    return got;
  }

  private void assertNothingRemains(String destination) {
    long deadline = System.nanoTime() + timeout().toNanos();
    long left = remaining(destination);
    while (left > 0 && System.nanoTime() < deadline) {
      Mono.delay(Duration.ofMillis(200)).block();
      left = remaining(destination);
    }
    if (left >= 0) {
      assertThat(left).as("messages left unacked on the broker").isZero();
    }
  }

  @Test
  void acksOnlyAfterTheOutcomeIsRecordedAndLeavesNothingBehind() {
    String q = newDestination();
    List<String> ids = IntStream.range(0, 50).mapToObj(i -> "ack-" + i).toList();
    ids.forEach(id -> publish(q, message(id, "p-" + id)));
    FaultyStore store = FaultyStore.wrap(InMemoryIdempotencyStore.create());
    EffectRecorder effects = new EffectRecorder();
    run(pipeline(q, store, m -> Mono.fromSupplier(() -> (Object) effects.apply(m.key())), 8), 50);
    effects.assertExactlyOnce(ids);
    assertThat(store.calls(FaultyStore.Operation.COMPLETE)).isEqualTo(50);
    assertNothingRemains(q);
  }

  @Test
  void nackRedelivers() {
    String q = newDestination();
    publish(q, message("nack-1", "p"));
    // The first completion fails: the delivery is nacked, then comes back and completes.
    FaultyStore store =
        FaultyStore.wrap(InMemoryIdempotencyStore.create())
            .failNext(FaultyStore.Operation.COMPLETE, 1);
    AtomicInteger calls = new AtomicInteger();
    List<Outcome<Object>> got =
        run(
            pipeline(q, store, m -> Mono.fromSupplier(() -> (Object) calls.incrementAndGet()), 1),
            2);
    assertThat(got.get(0)).isInstanceOf(Outcome.Nacked.class);
    assertThat(got.get(1)).isInstanceOf(Outcome.Processed.class);
    assertThat(calls).hasValue(2);
    assertNothingRemains(q);
  }

  @Test
  void unackedDeliveriesComeBackAfterAnAbruptStop() {
    String q = newDestination();
    List<String> ids = IntStream.range(0, 20).mapToObj(i -> "crash-" + i).toList();
    ids.forEach(id -> publish(q, message(id, "p")));
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    EffectRecorder effects = new EffectRecorder();
    List<String> started = new CopyOnWriteArrayList<>();
    // The first consumer never finishes a handler: it is stopped abruptly with all in flight.
    Pipeline<String, Object> first =
        pipeline(
            q,
            store,
            m -> {
              started.add(m.key());
              return Mono.never();
            },
            4);
    Disposable d = first.start();
    long deadline = System.nanoTime() + timeout().toNanos();
    while (started.isEmpty() && System.nanoTime() < deadline) {
      Mono.delay(Duration.ofMillis(50)).block();
    }
    assertThat(started).as("the first consumer received something").isNotEmpty();
    d.dispose();

    Pipeline<String, Object> second =
        pipeline(q, store, m -> Mono.fromSupplier(() -> (Object) effects.apply(m.key())), 4);
    List<Outcome<Object>> got = new ArrayList<>();
    second
        .outcomes()
        .doOnNext(got::add)
        .takeUntil(o -> effects.total() == ids.size())
        .then()
        .block(timeout());
    effects.assertExactlyOnce(ids);
  }

  @Test
  void duplicatesAreHandledOnce() {
    String q = newDestination();
    List<String> ids = IntStream.range(0, 10).mapToObj(i -> "dup-" + i).toList();
    for (String id : ids) {
      publish(q, message(id, "p"));
      publish(q, message(id, "p"));
    }
    EffectRecorder effects = new EffectRecorder();
    Pipeline<String, Object> p =
        pipeline(
            q,
            InMemoryIdempotencyStore.create(),
            m -> Mono.fromSupplier(() -> (Object) effects.apply(m.key())),
            4);
    List<Outcome<Object>> got = run(p, 20);
    effects.assertExactlyOnce(ids);
    assertThat(got.stream().filter(o -> o instanceof Outcome.Duplicate).count()).isEqualTo(10);
    assertNothingRemains(q);
  }

  @Test
  void deadLettersCarryTheStandardMetadata() {
    String q = newDestination();
    publish(q, message("poison-1", "bad"));
    publish(q, message("fine-1", "good"));
    Pipeline<String, Object> p =
        pipeline(
            q,
            InMemoryIdempotencyStore.create(),
            m ->
                m.payload().equals("bad")
                    ? Mono.error(new NonRetryableException("cannot charge"))
                    : Mono.just((Object) "ok"),
            2);
    run(p, 2);
    List<Map<String, String>> dead = readDeadLetters(q, 1);
    assertThat(dead).hasSize(1);
    Map<String, String> h = dead.get(0);
    assertThat(h)
        .containsEntry(DeadLetter.REASON, "NON_RETRYABLE")
        .containsEntry(DeadLetter.EXCEPTION_CLASS, NonRetryableException.class.getName())
        .containsEntry(DeadLetter.EXCEPTION_MESSAGE, "cannot charge")
        .containsEntry(DeadLetter.ATTEMPTS, "1")
        .containsEntry(DeadLetter.PIPELINE, "conformance")
        .containsEntry(DeadLetter.DEDUP_KEY, "poison-1")
        .containsKey(DeadLetter.FIRST_FAILURE)
        .containsKey(DeadLetter.LAST_FAILURE)
        .containsKey(DeadLetter.ORIGIN_DESTINATION)
        .containsEntry("onceflow-id", "poison-1");
    assertNothingRemains(q);
  }

  @Test
  void inFlightBoundHolds() {
    String q = newDestination();
    List<String> ids = IntStream.range(0, 40).mapToObj(i -> "bound-" + i).toList();
    ids.forEach(id -> publish(q, message(id, "p")));
    AtomicInteger now = new AtomicInteger();
    AtomicInteger max = new AtomicInteger();
    Pipeline<String, Object> p =
        pipeline(
            q,
            InMemoryIdempotencyStore.create(),
            m ->
                Mono.defer(
                        () -> {
                          max.accumulateAndGet(now.incrementAndGet(), Math::max);
                          return Mono.delay(Duration.ofMillis(20));
                        })
                    // before the completion travels downstream (doFinally would run after the
                    // pipeline already pulled the next delivery)
                    .doOnTerminate(now::decrementAndGet)
                    .thenReturn((Object) "ok"),
            3);
    run(p, 40);
    assertThat(max.get()).isBetween(1, 3);
  }

  @Test
  void gracefulStopDrainsInFlightWork() {
    String q = newDestination();
    List<String> ids = IntStream.range(0, 5).mapToObj(i -> "stop-" + i).toList();
    ids.forEach(id -> publish(q, message(id, "p")));
    EffectRecorder effects = new EffectRecorder();
    AtomicInteger started = new AtomicInteger();
    Pipeline<String, Object> p =
        pipeline(
            q,
            InMemoryIdempotencyStore.create(),
            m -> {
              started.incrementAndGet();
              return Mono.delay(Duration.ofMillis(500))
                  .then(Mono.fromSupplier(() -> (Object) effects.apply(m.key())));
            },
            5);
    p.start();
    long deadline = System.nanoTime() + timeout().toNanos();
    // Stop once all five are in flight: a broker may still push deliveries against demand the
    // pipeline asked for earlier, and those would rightly be nacked as STOPPED.
    while (started.get() < ids.size() && System.nanoTime() < deadline) {
      Mono.delay(Duration.ofMillis(20)).block();
    }
    assertThat(started).as("all deliveries in flight before the stop").hasValue(ids.size());
    p.stop(Duration.ofSeconds(20)).block(timeout());
    assertThat(p.running()).isFalse();
    assertThat(p.ledger().balanced()).isTrue();
    assertThat(p.ledger().inFlight()).isZero();
    // What started finished: drained, not cut off.
    assertThat(effects.total()).isEqualTo((int) p.ledger().processed()).isEqualTo(ids.size());
    assertThat(p.ledger().nacked()).isZero();
  }

  @Test
  void envelopeConventionRoundTrips() {
    String q = newDestination();
    Instant ts = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Envelope sent =
        Envelope.builder()
            .messageId("round-1")
            .entityKey("order-7")
            .correlationId("corr-1")
            .causationId("cause-1")
            .producerId("producer-1")
            .sequence(42L)
            .version(3L)
            .timestamp(ts)
            .header("tenant", "acme")
            .payload("{\"x\":1}".getBytes(StandardCharsets.UTF_8))
            .origin(Origin.kafka("unused", -1, -1))
            .build();
    publish(q, sent);
    List<Envelope> seen = new CopyOnWriteArrayList<>();
    Pipeline<String, Object> p =
        pipeline(
            q,
            InMemoryIdempotencyStore.create(),
            m -> {
              seen.add(m.envelope());
              return Mono.just((Object) "ok");
            },
            1);
    run(p, 1);
    Envelope got = seen.get(0);
    assertThat(got.messageId()).isEqualTo("round-1");
    assertThat(got.entityKey()).isEqualTo("order-7");
    assertThat(got.correlationId()).isEqualTo("corr-1");
    assertThat(got.causationId()).isEqualTo("cause-1");
    assertThat(got.producerId()).isEqualTo("producer-1");
    assertThat(got.sequence()).isEqualTo(42L);
    assertThat(got.version()).isEqualTo(3L);
    assertThat(got.timestamp()).isEqualTo(ts);
    assertThat(got.headers()).containsEntry("tenant", "acme");
    assertThat(new String(got.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
    assertThat(got.malformation()).isNull();
    assertThat(got.origin().destination()).isNotBlank();
  }
}
