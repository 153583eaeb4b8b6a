package dev.onceflow.test.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.Retries;
import dev.onceflow.test.FaultyStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** Producer sequences: a first number, dead letters that advance, gaps that time out. */
class ProducerSequenceTest {

  private final Scenario s = new Scenario();
  private final List<Long> handled = new CopyOnWriteArrayList<>();
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private void publish(String producer, long seq, String payload) {
    s.source.publish(
        Envelope.builder()
            .messageId(producer + "-" + seq)
            .producerId(producer)
            .sequence(seq)
            .payload(payload.getBytes(StandardCharsets.UTF_8)));
  }

  private Pipeline<Integer, Object> pipeline(dev.onceflow.store.IdempotencyStore store, Dedup d) {
    return Onceflow.consume(s.source)
        .name("seq")
        .scheduler(s.vts)
        .decode(e -> Integer.parseInt(new String(e.payload(), StandardCharsets.UTF_8))) // "x" fails
        .deduplicate(d)
        .handle(
            m -> {
              handled.add(m.envelope().sequence());
              return Mono.just((Object) m.payload());
            })
        .retry(Retries.none())
        .deadLetterTo(s.deadLetters)
        .orderedByKey()
        .metrics(meters)
        .build();
  }

  @Test
  void anUndecodableSequenceIsDeadLetteredAndAdvancesTheProducerInsteadOfWedgingIt() {
    publish("p", 1, "1");
    publish("p", 2, "not a number");
    for (int i = 3; i <= 10; i++) {
      publish("p", i, Integer.toString(i));
    }
    s.source.completeWhenDrained();
    Pipeline<Integer, Object> p = pipeline(s.store, Dedup.byProducerSequence(s.store));
    s.runFor(p::outcomes, Duration.ofMinutes(1));

    assertThat(handled).containsExactly(1L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    assertThat(s.deadLetters.deadLetters())
        .singleElement()
        .satisfies(dl -> assertThat(dl.reason()).isEqualTo(DeadLetterReason.DECODE_FAILED));
    assertThat(p.ledger().nacked()).isZero();
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void aSequenceThatNeverArrivesIsSkippedAfterTheGapTimeoutCountedAndTheRestIsHandled() {
    publish("p", 1, "1");
    // 2 was lost by its producer.
    for (int i = 3; i <= 6; i++) {
      publish("p", i, Integer.toString(i));
    }
    s.source.completeWhenDrained();
    Pipeline<Integer, Object> p =
        pipeline(
            s.store,
            Dedup.byProducerSequence(s.store)
                .gapTimeout(Duration.ofSeconds(30))
                .inProgressBackoff(Duration.ofSeconds(1)));
    s.runFor(p::outcomes, Duration.ofMinutes(5));

    assertThat(handled).containsExactly(1L, 3L, 4L, 5L, 6L);
    assertThat(meters.get("onceflow.sequence.gaps").counter().count()).isEqualTo(1.0);
    assertThat(s.deadLetters.deadLetters()).isEmpty();
    // The nacks while it waited were bounded by the gap timeout, not endless.
    assertThat(p.ledger().nacked()).isBetween(1L, 20L);
    assertThat(p.ledger().balanced()).isTrue();
  }

  @Test
  void aFirstSequenceNackedByAStoreErrorIsHandledWhenRedeliveredNotTakenForADuplicate() {
    publish("p", 1, "1");
    publish("p", 2, "2");
    s.source.completeWhenDrained();
    FaultyStore faulty = FaultyStore.wrap(s.store).failNext(FaultyStore.Operation.ACQUIRE, 1);
    List<Outcome<Object>> outcomes = new CopyOnWriteArrayList<>();
    // No per-key order here: 2 must wait for 1 in the store itself.
    Pipeline<Integer, Object> p =
        Onceflow.consume(s.source)
            .name("seq")
            .scheduler(s.vts)
            .decode(e -> Integer.parseInt(new String(e.payload(), StandardCharsets.UTF_8)))
            .deduplicate(Dedup.byProducerSequence(faulty).inProgressBackoff(Duration.ofMillis(200)))
            .handle(
                m -> {
                  handled.add(m.envelope().sequence());
                  return Mono.just((Object) m.payload());
                })
            .deadLetterTo(s.deadLetters)
            .concurrency(2)
            .storeRetry(Duration.ofMillis(10), Duration.ofMillis(10))
            .build();
    s.runFor(() -> p.outcomes().doOnNext(outcomes::add), Duration.ofMinutes(1));

    assertThat(handled).containsExactly(1L, 2L);
    assertThat(outcomes)
        .filteredOn(
            o ->
                o instanceof Outcome.Nacked<Object> n && n.reason() == NackReason.STORE_UNAVAILABLE)
        .hasSize(1);
    assertThat(p.ledger().duplicates()).isZero();
    assertThat(p.ledger().processed()).isEqualTo(2);
  }

  @Test
  void aRedrivenSequenceRunsEvenWhenTheProducerMovedOn() {
    publish("p", 1, "1");
    publish("p", 2, "x");
    publish("p", 3, "3");
    s.source.completeWhenDrained();
    InMemoryIdempotencyStore store = s.store;
    Pipeline<Integer, Object> p = pipeline(store, Dedup.byProducerSequence(store));
    s.runFor(p::outcomes, Duration.ofMinutes(1));
    assertThat(handled).containsExactly(1L, 3L);

    // The fixed message comes back from the dead-letter queue, marked as a redrive.
    s.source.publish(
        Envelope.builder()
            .messageId("p-2")
            .producerId("p")
            .sequence(2L)
            .redrive(true)
            .payload("2".getBytes(StandardCharsets.UTF_8)));
    s.source.publish(
        Envelope.builder()
            .messageId("p-2")
            .producerId("p")
            .sequence(2L)
            .redrive(true)
            .payload("2".getBytes(StandardCharsets.UTF_8)));
    s.runFor(p::outcomes, Duration.ofMinutes(1));
    assertThat(handled).containsExactly(1L, 3L, 2L);
    assertThat(p.ledger().duplicates()).isEqualTo(1);
  }
}
