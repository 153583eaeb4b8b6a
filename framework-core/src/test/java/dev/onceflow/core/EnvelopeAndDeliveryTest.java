package dev.onceflow.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class EnvelopeAndDeliveryTest {

  private static Envelope.Builder base() {
    return Envelope.builder()
        .payload("hello".getBytes(StandardCharsets.UTF_8))
        .origin(Origin.kafka("t", 1, 7));
  }

  @Test
  void conventionHeadersRoundTrip() {
    Envelope e =
        base()
            .messageId("m-1")
            .entityKey("order-9")
            .correlationId("c")
            .causationId("k")
            .producerId("p")
            .sequence(5L)
            .version(3L)
            .timestamp(Instant.parse("2026-01-02T03:04:05Z"))
            .redrive(true)
            .header("tenant", "acme")
            .build();
    Map<String, String> wire = HeaderConvention.toHeaders(e);
    Envelope back = HeaderConvention.apply(base(), wire).build();
    assertThat(back.messageId()).isEqualTo("m-1");
    assertThat(back.entityKey()).isEqualTo("order-9");
    assertThat(back.correlationId()).isEqualTo("c");
    assertThat(back.causationId()).isEqualTo("k");
    assertThat(back.producerId()).isEqualTo("p");
    assertThat(back.sequence()).isEqualTo(5L);
    assertThat(back.version()).isEqualTo(3L);
    assertThat(back.timestamp()).isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(back.redrive()).isTrue();
    assertThat(back.headers()).containsEntry("tenant", "acme");
    assertThat(back.malformation()).isNull();
  }

  @Test
  void malformedHeadersAreReportedNotThrown() {
    Envelope e =
        HeaderConvention.apply(
                base(),
                Map.of(
                    HeaderConvention.SEQUENCE, "x1",
                    HeaderConvention.TIMESTAMP, "yesterday",
                    HeaderConvention.MESSAGE_ID, "m"))
            .build();
    assertThat(e.messageId()).isEqualTo("m");
    assertThat(e.sequence()).isNull();
    assertThat(e.malformation()).contains("onceflow-sequence").contains("onceflow-timestamp");
  }

  @Test
  void envelopeIsImmutableAndDoesNotPrintPayloads() {
    byte[] raw = "secret".getBytes(StandardCharsets.UTF_8);
    Envelope e =
        Envelope.builder().payload(raw).messageId("m").origin(Origin.kafka("t", 0, 1)).build();
    raw[0] = 'X';
    e.payload()[0] = 'Y';
    assertThat(new String(e.payload(), StandardCharsets.UTF_8)).isEqualTo("secret");
    assertThat(e.toString()).doesNotContain("secret").contains("kafka:t/0@1");
    assertThat(base().messageId("  ").build().messageId()).isNull();
  }

  @Test
  void settlementIsIdempotentFirstCallWins() {
    AtomicInteger acks = new AtomicInteger();
    AtomicInteger nacks = new AtomicInteger();
    Delivery d =
        Delivery.of(
            base().build(),
            () -> Mono.fromRunnable(acks::incrementAndGet),
            delay -> Mono.fromRunnable(nacks::incrementAndGet));
    assertThat(d.settled()).isFalse();
    StepVerifier.create(d.ack()).verifyComplete();
    StepVerifier.create(d.ack()).verifyComplete();
    StepVerifier.create(d.nack(Duration.ofSeconds(1))).verifyComplete();
    assertThat(acks).hasValue(1);
    assertThat(nacks).hasValue(0);
    assertThat(d.settled()).isTrue();
  }

  @Test
  void settlementNeverThrowsAFailingAckArrivesAsAnErrorSignal() {
    Delivery d =
        Delivery.of(
            base().build(),
            () -> {
              throw new IllegalStateException("channel closed");
            },
            delay -> Mono.empty());
    StepVerifier.create(d.ack()).expectErrorMessage("channel closed").verify();
  }

  @Test
  void settlementRunsToItsEndWhenItsSubscriberCancels() {
    reactor.test.publisher.TestPublisher<Void> broker =
        reactor.test.publisher.TestPublisher.create();
    AtomicInteger done = new AtomicInteger();
    Delivery d =
        Delivery.of(
            base().build(),
            () -> broker.mono().doOnSuccess(v -> done.incrementAndGet()),
            delay -> Mono.empty());
    reactor.core.Disposable subscriber = d.ack().subscribe();
    subscriber.dispose();
    broker.assertWasNotCancelled();
    broker.complete();
    assertThat(done).hasValue(1);
  }
}
