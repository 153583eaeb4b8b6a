package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** The source against the real broker: settlement, bounds, cancel, recovery, mapping. */
class RabbitSourceIT {

  private RabbitBroker.Admin broker;
  private final List<String> queues = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void connect() {
    RabbitBroker.requireRunning();
    broker = new RabbitBroker.Admin();
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    queues.forEach(broker::deleteQueue);
    broker.close();
  }

  private String queue(String prefix, Map<String, Object> args) throws Exception {
    String q = RabbitBroker.uniqueName(prefix);
    queues.add(q);
    broker.declareQueue(q, args);
    return q;
  }

  private static List<String> ids(int n) {
    return IntStream.range(0, n).mapToObj(i -> "id-" + i).toList();
  }

  private static RabbitSourceOptions.Builder options(String queue) {
    return RabbitSourceOptions.builder().uri(RabbitBroker.URI).queue(queue);
  }

  @Test
  void everyDeliveryIsEmittedAndAckedAndTheQueueEndsEmpty() throws Exception {
    String q = queue("ack", Map.of());
    broker.publish(q, ids(500));
    RabbitSource source = RabbitSource.create(options(q).prefetch(50).consumers(2).build());

    Set<String> seen = ConcurrentHashMap.newKeySet();
    StepVerifier.create(
            source
                .receive()
                .flatMap(d -> d.ack().thenReturn(d.envelope().messageId()), 32)
                .doOnNext(seen::add)
                .take(500))
        .expectNextCount(500)
        .verifyComplete();

    assertThat(seen).hasSize(500);
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).as("nothing requeued: everything was acked").isZero();
  }

  @Test
  void withoutDemandOnlyThePrefetchWindowLeavesTheQueue() throws Exception {
    String q = queue("nodemand", Map.of());
    broker.publish(q, ids(300));
    RabbitSource source = RabbitSource.create(options(q).prefetch(10).consumers(2).build());

    List<Delivery> got = new CopyOnWriteArrayList<>();
    StepVerifier.create(source.receive(), 0)
        .then(() -> await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 2))
        // The broker sends prefetch x consumers and then stops: nothing more is taken.
        .then(() -> await().atMost(Duration.ofSeconds(10)).until(() -> broker.ready(q) == 280))
        .thenAwait(Duration.ofMillis(500))
        .then(() -> assertThat(broker.ready(q)).isEqualTo(280))
        .thenRequest(5)
        .recordWith(() -> got)
        .expectNextCount(5)
        .then(() -> assertThat(got).allMatch(d -> d.envelope().messageId() != null))
        .thenCancel()
        .verify(Duration.ofSeconds(20));

    // Cancel closed the channels: the broker took every unacked delivery back.
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.ready(q) == 300);
    assertThat(broker.consumers(q)).isZero();
    assertThat(source.inFlight()).isZero();
  }

  @Test
  void prefetchBoundsUnackedDeliveriesUnderASlowHandler() throws Exception {
    String q = queue("bound", Map.of());
    int total = 200;
    broker.publish(q, ids(total));
    int prefetch = 8;
    int consumers = 2;
    RabbitSource source =
        RabbitSource.create(options(q).prefetch(prefetch).consumers(consumers).build());

    AtomicInteger outstanding = new AtomicInteger();
    AtomicInteger maxOutstanding = new AtomicInteger();
    List<Integer> brokerUnacked = new CopyOnWriteArrayList<>();
    // Downstream asks for 64 at once, far above the bound, and handles slowly.
    Disposable run =
        source
            .receive()
            .doOnNext(
                d -> maxOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max))
            .flatMap(
                d ->
                    Mono.delay(Duration.ofMillis(25))
                        // Counted down as the ack leaves: the broker may send the next delivery
                        // as soon as it has the ack, before the ack's Mono completes here.
                        .then(
                            Mono.defer(
                                () -> {
                                  outstanding.decrementAndGet();
                                  return d.ack();
                                })),
                64)
            .subscribe(v -> {}, e -> {}, () -> {});
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> broker.ready(q) < total - 20);
      brokerUnacked.add(RabbitBroker.unackedByRabbitmqctl(q));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> broker.ready(q) == 0 && outstanding.get() == 0);
    } finally {
      run.dispose();
    }
    assertThat(maxOutstanding.get())
        .as("deliveries emitted and not yet settled")
        .isLessThanOrEqualTo(prefetch * consumers)
        .isGreaterThan(1);
    assertThat(brokerUnacked.get(0))
        .as("unacked as the broker counts them, mid-run")
        .isLessThanOrEqualTo(prefetch * consumers);
  }

  @Test
  void nackWithoutDelayRequeuesAndTheRedeliveryIsFlagged() throws Exception {
    String q = queue("nack", Map.of());
    broker.publish(q, List.of("only"));
    RabbitSource source = RabbitSource.create(options(q).prefetch(5).build());

    StepVerifier.create(source.receive().concatMap(d -> Mono.just(d)), 1)
        .assertNext(
            d -> {
              assertThat(d.envelope().origin().redelivered()).isFalse();
              assertThat(d.envelope().origin().attempt()).isEqualTo(1);
              d.nack(Duration.ZERO).block(Duration.ofSeconds(5));
            })
        .thenRequest(1)
        .assertNext(
            d -> {
              assertThat(d.envelope().messageId()).isEqualTo("only");
              assertThat(d.envelope().origin().redelivered()).isTrue();
              assertThat(d.envelope().origin().attempt()).isGreaterThanOrEqualTo(2);
              d.ack().block(Duration.ofSeconds(5));
            })
        .thenCancel()
        .verify(Duration.ofSeconds(20));
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
  }

  @Test
  void settlementIsIdempotentAndTheFirstWins() throws Exception {
    String q = queue("idem", Map.of());
    broker.publish(q, List.of("a"));
    RabbitSource source = RabbitSource.create(options(q).build());

    StepVerifier.create(source.receive(), 1)
        .assertNext(
            d -> {
              d.ack().block(Duration.ofSeconds(5));
              d.ack()
                  .block(Duration.ofSeconds(5)); // no second basic.ack (it would close the channel)
              d.nack(Duration.ZERO).block(Duration.ofSeconds(5)); // the ack won
              assertThat(d.settled()).isTrue();
            })
        .thenAwait(Duration.ofMillis(300))
        .thenCancel()
        .verify(Duration.ofSeconds(20));
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).as("acked once, not requeued").isZero();
  }

  @Test
  void quorumQueueDeliveryCountGivesTheAttempt() throws Exception {
    String q = queue("quorum", Map.of("x-queue-type", "quorum"));
    broker.publish(q, List.of("q1"));
    RabbitSource source = RabbitSource.create(options(q).prefetch(1).build());

    List<Integer> attempts = new CopyOnWriteArrayList<>();
    StepVerifier.create(
            source
                .receive()
                .concatMap(
                    d -> {
                      attempts.add(d.envelope().origin().attempt());
                      return attempts.size() < 3
                          ? d.nack(Duration.ZERO).thenReturn(d)
                          : d.ack().thenReturn(d);
                    })
                .take(3))
        .expectNextCount(3)
        .verifyComplete();
    assertThat(attempts).containsExactly(1, 2, 3);
  }

  @Test
  void holdDelaysTheRedelivery() throws Exception {
    String q = queue("hold", Map.of());
    broker.publish(q, List.of("h"));
    RabbitSource source =
        RabbitSource.create(options(q).redeliveryDelay(RedeliveryDelay.hold()).build());

    List<Instant> at = new CopyOnWriteArrayList<>();
    StepVerifier.create(
            source
                .receive()
                .concatMap(
                    d -> {
                      at.add(Instant.now());
                      return at.size() == 1
                          ? d.nack(Duration.ofMillis(600)).thenReturn(d)
                          : d.ack().thenReturn(d);
                    })
                .take(2))
        .expectNextCount(2)
        .verifyComplete();
    assertThat(Duration.between(at.get(0), at.get(1)))
        .isGreaterThanOrEqualTo(Duration.ofMillis(600));
  }

  @Test
  void retryQueueDelaysTheRedeliveryAndKeepsIdentityAndAttempts() throws Exception {
    String q = queue("retry", Map.of());
    queues.add(q + RedeliveryDelay.DEFAULT_RETRY_QUEUE_SUFFIX);
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder()
            .messageId("r1")
            .correlationId("corr")
            .headers(Map.of(HeaderConvention.ENTITY_KEY, "k1"))
            .build();
    broker.publish("", q, props, "x".getBytes(StandardCharsets.UTF_8));
    RabbitSource source =
        RabbitSource.create(options(q).redeliveryDelay(RedeliveryDelay.retryQueue()).build());

    List<Envelope> seen = new CopyOnWriteArrayList<>();
    List<Instant> at = new CopyOnWriteArrayList<>();
    StepVerifier.create(
            source
                .receive()
                .concatMap(
                    d -> {
                      seen.add(d.envelope());
                      at.add(Instant.now());
                      return seen.size() == 1
                          ? d.nack(Duration.ofMillis(700)).thenReturn(d)
                          : d.ack().thenReturn(d);
                    })
                .take(2))
        .expectNextCount(2)
        .verifyComplete();

    assertThat(Duration.between(at.get(0), at.get(1)))
        .isGreaterThanOrEqualTo(Duration.ofMillis(650));
    Envelope again = seen.get(1);
    assertThat(again.messageId()).isEqualTo("r1");
    assertThat(again.correlationId()).isEqualTo("corr");
    assertThat(again.entityKey()).isEqualTo("k1");
    assertThat(again.payload()).isEqualTo("x".getBytes(StandardCharsets.UTF_8));
    assertThat(again.origin().attempt()).isEqualTo(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
    assertThat(broker.ready(q + RedeliveryDelay.DEFAULT_RETRY_QUEUE_SUFFIX)).isZero();
  }

  @Test
  void envelopeCarriesPropertiesConventionHeadersAndOrigin() throws Exception {
    String q = queue("map", Map.of());
    Instant ts = Instant.parse("2026-03-04T05:06:07.890Z");
    try (RabbitPublisher publisher = RabbitPublisher.create(RabbitBroker.URI)) {
      Envelope out =
          Envelope.builder()
              .messageId("m-1")
              .entityKey("order-1")
              .correlationId("c-1")
              .causationId("cause-1")
              .producerId("p-1")
              .sequence(41L)
              .version(3L)
              .timestamp(ts)
              .header("tenant", "acme")
              .payload("{}".getBytes(StandardCharsets.UTF_8))
              .build();
      publisher.publish(q, out).block(Duration.ofSeconds(10));
    }
    RabbitSource source = RabbitSource.create(options(q).build());
    StepVerifier.create(source.receive().concatMap(d -> d.ack().thenReturn(d.envelope())).take(1))
        .assertNext(
            e -> {
              assertThat(e.messageId()).isEqualTo("m-1");
              assertThat(e.entityKey()).isEqualTo("order-1");
              assertThat(e.correlationId()).isEqualTo("c-1");
              assertThat(e.causationId()).isEqualTo("cause-1");
              assertThat(e.producerId()).isEqualTo("p-1");
              assertThat(e.sequence()).isEqualTo(41L);
              assertThat(e.version()).isEqualTo(3L);
              assertThat(e.timestamp()).isEqualTo(ts);
              assertThat(e.headers()).containsEntry("tenant", "acme");
              assertThat(e.headers()).noneSatisfy((k, v) -> assertThat(k).startsWith("spring_"));
              assertThat(e.malformation()).isNull();
              assertThat(e.origin().broker()).isEqualTo(BrokerKind.RABBITMQ);
              assertThat(e.origin().destination()).isEqualTo(q);
              assertThat(e.origin().receipt()).matches("\\d+@.+");
              assertThat(e.origin().redelivered()).isFalse();
              assertThat(e.origin().attempt()).isEqualTo(1);
            })
        .verifyComplete();
  }

  @Test
  void missingQueueFailsTheSubscriptionWithAClearMessage() {
    RabbitSource source = RabbitSource.create(options(RabbitBroker.uniqueName("missing")).build());
    StepVerifier.create(source.receive())
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .hasMessageContaining("does not exist")
                    .hasMessageContaining("declareQueue(true)"))
        .verify(Duration.ofSeconds(20));
  }

  @Test
  void declareQueueCreatesTheQueue() throws Exception {
    String q = RabbitBroker.uniqueName("declared");
    queues.add(q);
    RabbitSource source = RabbitSource.create(options(q).declareQueue(true).build());
    StepVerifier.create(source.receive(), 0)
        .then(() -> await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 1))
        .thenCancel()
        .verify(Duration.ofSeconds(20));
    assertThat(broker.ready(q)).isZero();
  }

  @Test
  void connectionLossIsRecoveredAndUnackedDeliveriesComeBack() throws Exception {
    String q = queue("recover", Map.of());
    int total = 400;
    broker.publish(q, ids(total));
    CachingConnectionFactory cf = RabbitBroker.connectionFactory();
    closeables.add(cf::destroy);
    RabbitSource source =
        RabbitSource.create(
            RabbitSourceOptions.builder()
                .connectionFactory(cf)
                .queue(q)
                .prefetch(20)
                .recoveryInterval(Duration.ofMillis(300))
                .build());

    // A tiny "store": ids whose outcome was recorded; the handler runs only for new ids.
    Set<String> recorded = ConcurrentHashMap.newKeySet();
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger acked = new AtomicInteger();
    AtomicInteger redelivered = new AtomicInteger();
    AtomicInteger ackFailures = new AtomicInteger();
    // After the first 100 acks, deliveries wait (unacked) until the connection was reset, so that
    // the lost channel surely holds unacked deliveries, however fast this machine is.
    Sinks.Empty<Void> reset = Sinks.empty();
    Disposable run =
        source
            .receive()
            .flatMap(
                d -> {
                  String id = d.envelope().messageId();
                  if (d.envelope().origin().redelivered()) {
                    redelivered.incrementAndGet();
                  }
                  if (!recorded.contains(id)) {
                    handled.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                    recorded.add(id);
                  }
                  return Mono.delay(Duration.ofMillis(5))
                      .then(acked.get() >= 100 ? reset.asMono() : Mono.<Void>empty())
                      .then(d.ack())
                      .doOnSuccess(v -> acked.incrementAndGet())
                      .onErrorResume(
                          e -> {
                            ackFailures.incrementAndGet();
                            return Mono.empty();
                          });
                },
                16)
            .subscribe();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> acked.get() >= 100);
      await().atMost(Duration.ofSeconds(10)).until(() -> source.inFlight() > 0);
      // Kill the connection under the consumer: spring-amqp must reconnect and resume.
      cf.resetConnection();
      reset.tryEmitEmpty();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> recorded.size() == total && broker.ready(q) == 0 && source.inFlight() == 0);
    } finally {
      run.dispose();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).as("every message acked in the end").isZero();
    assertThat(handled).hasSize(total);
    assertThat(handled.values()).allMatch(c -> c.get() == 1);
    assertThat(redelivered.get() + ackFailures.get())
        .as("the lost channel's unacked deliveries came back")
        .isGreaterThan(0);
  }

  @Test
  void cancelOfOneSubscriptionDoesNotDisturbAnother() throws Exception {
    String q = queue("two", Map.of());
    broker.publish(q, ids(20));
    RabbitSource source = RabbitSource.create(options(q).prefetch(5).build());
    Disposable idle = source.receive().subscribe(d -> {}); // takes 5, never settles
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> broker.ready(q) == 15);
    } finally {
      idle.dispose();
    }
    StepVerifier.create(
            Flux.from(source.receive()).flatMap(d -> d.ack().thenReturn(d.envelope())).take(20))
        .expectNextCount(20)
        .verifyComplete();
    await().atMost(Duration.ofSeconds(10)).until(() -> broker.consumers(q) == 0);
    assertThat(broker.ready(q)).isZero();
  }
}
