package dev.onceflow.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.core.Origin;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Decoder;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.MissingId;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.pipeline.Retries;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Bad input has a defined outcome; bad configuration fails at build with a clear message. */
class PipelineInputTest {

  private final InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
  private final InMemorySource source = InMemorySource.create("orders");
  private final InMemoryDeadLetters deadLetters = InMemoryDeadLetters.create();
  private final List<String> handled = new CopyOnWriteArrayList<>();

  private Pipeline<String, Object> pipeline(Dedup dedup) {
    return Onceflow.consume(source)
        .name("orders")
        .decode(Decoder.utf8())
        .deduplicate(dedup)
        .handle(
            m -> {
              handled.add(m.key() + "=" + m.payload());
              return Mono.just((Object) "ok");
            })
        .deadLetterTo(deadLetters)
        .concurrency(1)
        .build();
  }

  private static Envelope.Builder message(String payload) {
    return Envelope.builder()
        .payload(payload.getBytes(StandardCharsets.UTF_8))
        .origin(Origin.kafka("t", 0, 0));
  }

  @Test
  void messageWithoutIdIsDeadLetteredAsMissingIdByDefault() {
    source.publish(null, "no id").completeWhenDrained();
    StepVerifier.create(pipeline(Dedup.byMessageId(store)).outcomes())
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.DeadLettered.class))
        .verifyComplete();
    assertThat(handled).isEmpty();
    assertThat(deadLetters.deadLetters())
        .singleElement()
        .satisfies(
            dl -> {
              assertThat(dl.reason()).isEqualTo(DeadLetterReason.MISSING_ID);
              assertThat(dl.attempts()).isZero();
              assertThat(dl.exceptionMessage()).contains("no message id");
            });
    assertThat(source.acked()).isEqualTo(1);
  }

  @Test
  void idDerivedFromPayloadMakesIdenticalPayloadsDuplicates() {
    source.publish(null, "same").publish(null, "same").publish(null, "other").completeWhenDrained();
    Pipeline<String, Object> p =
        pipeline(Dedup.byMessageId(store).onMissingId(MissingId.DERIVE_FROM_PAYLOAD));
    StepVerifier.create(p.outcomes()).expectNextCount(3).verifyComplete();
    assertThat(handled).hasSize(2).allMatch(s -> s.startsWith("sha256:"));
    Ledgers.assertSettled(p.ledger(), 2, 1, 0);
  }

  @Test
  void idDerivedFromOriginUsesBrokerCoordinates() {
    source.publish(null, "same").publish(null, "same").completeWhenDrained();
    Pipeline<String, Object> p =
        pipeline(Dedup.byMessageId(store).onMissingId(MissingId.DERIVE_FROM_ORIGIN));
    StepVerifier.create(p.outcomes()).expectNextCount(2).verifyComplete();
    // Two sends at two offsets are two messages, whatever their payload.
    assertThat(handled).hasSize(2).allMatch(s -> s.startsWith("origin:"));
  }

  @Test
  void malformedConventionHeaderIsDeadLetteredAsDecodeFailed() {
    Envelope.Builder b = message("x");
    HeaderConvention.apply(
        b, Map.of(HeaderConvention.MESSAGE_ID, "m1", HeaderConvention.VERSION, "seven"));
    source.publish(b).completeWhenDrained();
    StepVerifier.create(pipeline(Dedup.byMessageId(store)).outcomes())
        .expectNextCount(1)
        .verifyComplete();
    assertThat(deadLetters.deadLetters())
        .singleElement()
        .satisfies(
            dl -> {
              assertThat(dl.reason()).isEqualTo(DeadLetterReason.DECODE_FAILED);
              assertThat(dl.exceptionMessage()).contains("onceflow-version").contains("seven");
            });
    assertThat(handled).isEmpty();
  }

  @Test
  void payloadTheDecoderRejectsIsDeadLetteredAsDecodeFailed() {
    source.publish("m1", "not a number").publish("m2", "42").completeWhenDrained();
    Pipeline<Integer, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .decode(e -> Integer.parseInt(new String(e.payload(), StandardCharsets.UTF_8)))
            .deduplicate(Dedup.byMessageId(store))
            .handle(m -> Mono.just((Object) (m.payload() * 2)))
            .deadLetterTo(deadLetters)
            .concurrency(1)
            .build();
    StepVerifier.create(p.outcomes())
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.DeadLettered.class))
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Processed.class, pr -> assertThat(pr.result()).isEqualTo(84)))
        .verifyComplete();
    assertThat(deadLetters.deadLetters().get(0).exceptionClass())
        .isEqualTo(NumberFormatException.class.getName());
  }

  @Test
  void versionGuardSkipsStaleVersions() {
    for (long v : new long[] {1, 3, 2, 3, 4}) {
      source.publish(message("v" + v).messageId("m" + v).entityKey("order-1").version(v));
    }
    source.completeWhenDrained();
    Pipeline<String, Object> p = pipeline(Dedup.byEntityVersion(store).fingerprint(false));
    StepVerifier.create(p.outcomes()).expectNextCount(5).verifyComplete();
    assertThat(handled)
        .containsExactly("version:order-1=v1", "version:order-1=v3", "version:order-1=v4");
    Ledgers.assertSettled(p.ledger(), 3, 2, 0);
  }

  @Test
  void producerSequenceKeepsTheHighestContiguousSequence() {
    for (long s : new long[] {1, 2, 2, 3, 1, 4}) {
      source.publish(message("s" + s).producerId("producer-a").sequence(s));
    }
    source.completeWhenDrained();
    Pipeline<String, Object> p = pipeline(Dedup.byProducerSequence(store).fingerprint(false));
    StepVerifier.create(p.outcomes()).expectNextCount(6).verifyComplete();
    assertThat(handled)
        .containsExactly(
            "producer:producer-a=s1",
            "producer:producer-a=s2",
            "producer:producer-a=s3",
            "producer:producer-a=s4");
    Ledgers.assertSettled(p.ledger(), 4, 2, 0);
  }

  @Test
  void redriveTakesADeadLetteredKeyButSkipsACompletedOne() {
    source.publish("poison", "fail").publish("fine", "ok").completeWhenDrained();
    Pipeline<String, Object> first =
        Onceflow.consume(source)
            .name("orders")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(
                m ->
                    m.payload().equals("fail")
                        ? Mono.error(new dev.onceflow.pipeline.NonRetryableException("bad"))
                        : Mono.just((Object) "ok"))
            .deadLetterTo(deadLetters)
            .build();
    StepVerifier.create(first.outcomes()).expectNextCount(2).verifyComplete();

    InMemorySource redrive = InMemorySource.create("orders");
    redrive.publish(message("fixed").messageId("poison").redrive(true));
    redrive.publish(message("ok").messageId("fine").redrive(true));
    redrive.completeWhenDrained();
    Pipeline<String, Object> second =
        Onceflow.consume(redrive)
            .name("orders")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store).fingerprint(false))
            .handle(m -> Mono.just((Object) ("redriven " + m.fence())))
            .deadLetterTo(deadLetters)
            .concurrency(1)
            .build();
    StepVerifier.create(second.outcomes())
        .assertNext(
            o ->
                assertThat(o)
                    .isInstanceOfSatisfying(
                        Outcome.Processed.class, pr -> assertThat(pr.fence()).isEqualTo(2)))
        .assertNext(o -> assertThat(o).isInstanceOf(Outcome.Duplicate.class))
        .verifyComplete();
  }

  @Test
  void metricsCountOutcomesUnderStableNames() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    source.publish("a", "1").publish("a", "1").completeWhenDrained();
    Pipeline<String, Object> p =
        Onceflow.consume(source)
            .name("orders")
            .decode(Decoder.utf8())
            .deduplicate(Dedup.byMessageId(store))
            .handle(m -> Mono.just((Object) "ok"))
            .deadLetterTo(deadLetters)
            .metrics(registry)
            .build();
    StepVerifier.create(p.outcomes()).expectNextCount(2).verifyComplete();
    assertThat(
            registry
                .get("onceflow.deliveries")
                .tag("pipeline", "orders")
                .tag("outcome", "processed")
                .counter()
                .count())
        .isEqualTo(1.0);
    assertThat(registry.get("onceflow.deliveries").tag("outcome", "duplicate").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("onceflow.handler").tag("result", "success").timer().count())
        .isEqualTo(1);
    assertThat(registry.get("onceflow.store").tag("operation", "acquire").timer().count())
        .isEqualTo(2);
    assertThat(registry.get("onceflow.inflight").gauge().value()).isZero();
  }

  @Test
  void badConfigurationFailsWithTheOptionAndValue() {
    PipelineBuilder<byte[], Object> b = Onceflow.consume(source);
    assertThatThrownBy(() -> b.concurrency(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("concurrency must be between 1 and 10000, but was 0");
    assertThatThrownBy(() -> b.name("has space"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name")
        .hasMessageContaining("'has space'");
    assertThatThrownBy(() -> Dedup.byMessageId(store).lease(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lease must be positive, but was PT0S");
    assertThatThrownBy(() -> Dedup.byMessageId(store).retain(Duration.ofSeconds(-1)))
        .hasMessage("retention must be positive, but was PT-1S");
    assertThatThrownBy(() -> Retries.exponential(0, Duration.ofMillis(1)))
        .hasMessage("maxAttempts must be at least 1, but was 0");
    assertThatThrownBy(() -> Retries.exponential(3, Duration.ofMillis(10)).jitter(1.5))
        .hasMessage("jitter must be between 0 and 1, but was 1.5");
    assertThatThrownBy(() -> b.heartbeat(1.0)).hasMessageContaining("heartbeat fraction");
    assertThatThrownBy(() -> b.handle(m -> Mono.empty()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("deadLetterTo(...) is required");
    assertThatThrownBy(() -> Onceflow.consume(source).deadLetterTo(deadLetters).build())
        .hasMessageContaining("handle(...) is required");
  }
}
