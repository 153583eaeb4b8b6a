package dev.onceflow.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.NonRetryableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;

/**
 * The starter in a running WebFlux application: a Kafka pipeline from five properties and a handler
 * bean, on a real broker (in this JVM) and a real Redis this test owns and stops. Pipelines start
 * and stop with the context; health goes DOWN while Redis is down and UP when it is back; the
 * {@code onceflow} endpoint reports the ledger; Prometheus scrapes the meters.
 */
class OnceflowStarterIT {

  static EmbeddedKafka kafka;
  static OwnRedis redis;

  @BeforeAll
  static void servers() {
    kafka = EmbeddedKafka.start();
    redis = OwnRedis.start();
  }

  @AfterAll
  static void stopServers() {
    if (redis != null) {
      redis.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  record Order(String item, int amount) {}

  record Receipt(String item, int charged) {}

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    final Map<String, AtomicInteger> charged = new ConcurrentHashMap<>();

    @Bean
    PipelineHandler<Order, Receipt> orders() {
      return msg -> {
        if (msg.payload().amount() < 0) {
          return Mono.error(new NonRetryableException("negative amount"));
        }
        charged.computeIfAbsent(msg.key(), k -> new AtomicInteger()).incrementAndGet();
        return Mono.just(new Receipt(msg.payload().item(), msg.payload().amount()));
      };
    }
  }

  private static KafkaProducer<byte[], byte[]> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(p);
  }

  /** A record as a producer that is not onceflow sends it: the id in a header of its own. */
  private static void send(
      KafkaProducer<byte[], byte[]> producer, String topic, String header, String id, String json)
      throws Exception {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, json.getBytes(StandardCharsets.UTF_8));
    r.headers().add(header, id.getBytes(StandardCharsets.UTF_8));
    producer.send(r).get();
  }

  private static void await(String what, Duration timeout, Supplier<Boolean> condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Boolean.TRUE.equals(condition.get())) {
        return;
      }
      Mono.delay(Duration.ofMillis(100)).block();
    }
    throw new AssertionError("timed out waiting for " + what);
  }

  @Test
  void aKafkaPipelineFromPropertiesRunsWithTheContextReportsItsHealthAndLedgerAndStopsWithIt()
      throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String topic = "orders-" + run;
    kafka.createTopic(topic, 2);
    ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(App.class)
            .web(WebApplicationType.REACTIVE)
            .properties(
                "server.port=0",
                "onceflow.store.redis.uri=" + redis.uri(),
                "onceflow.store.redis.key-prefix=it-" + run,
                "onceflow.store.redis.command-timeout=1s",
                "onceflow.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                "onceflow.pipelines.orders.broker=kafka",
                "onceflow.pipelines.orders.destination=" + topic,
                "onceflow.pipelines.orders.group=billing-" + run,
                "onceflow.pipelines.orders.id-header=x-order-id",
                "onceflow.pipelines.orders.create-dead-letter=true",
                "onceflow.pipelines.orders.retries=1",
                "onceflow.pipelines.orders.retry-backoff=10ms",
                "management.endpoints.web.exposure.include=health,onceflow,prometheus",
                "management.endpoint.health.show-details=always")
            .run();
    App app = ctx.getBean(App.class);
    OnceflowPipelines pipelines = ctx.getBean(OnceflowPipelines.class);
    int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
    WebTestClient http =
        WebTestClient.bindToServer()
            .baseUrl("http://127.0.0.1:" + port)
            .responseTimeout(Duration.ofSeconds(20))
            .build();
    try {
      assertThat(pipelines.pipeline("orders").running()).isTrue();

      try (KafkaProducer<byte[], byte[]> producer = producer()) {
        for (int i = 0; i < 20; i++) {
          send(
              producer,
              topic,
              "x-order-id",
              "order-" + i,
              "{\"item\":\"book\",\"amount\":" + i + "}");
        }
        for (int i = 0; i < 20; i += 2) { // re-sent by the producer: duplicates
          send(
              producer,
              topic,
              "x-order-id",
              "order-" + i,
              "{\"item\":\"book\",\"amount\":" + i + "}");
        }
        send(producer, topic, "ce_id", "cloud-event-1", "{\"item\":\"pen\",\"amount\":3}");
        send(producer, topic, "x-order-id", "poison", "{\"item\":\"x\",\"amount\":-1}");
      }
      await(
          "32 records acked (a store timeout may add a nack and a redelivery)",
          Duration.ofSeconds(60),
          () -> {
            var l = pipelines.pipeline("orders").ledger();
            return l.processed() + l.duplicates() + l.deadLettered() >= 32 && l.inFlight() == 0;
          });
      var ledger = pipelines.pipeline("orders").ledger();
      assertThat(ledger.processed()).isEqualTo(21);
      assertThat(ledger.duplicates()).isEqualTo(10);
      assertThat(ledger.deadLettered()).isEqualTo(1);
      assertThat(app.charged).hasSize(21).containsKey("cloud-event-1").containsKey("order-19");
      assertThat(app.charged.values()).allMatch(n -> n.get() == 1);

      http.get()
          .uri("/actuator/onceflow")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.pipelines.orders.state")
          .isEqualTo("RUNNING")
          .jsonPath("$.pipelines.orders.ledger.processed")
          .isEqualTo(21)
          .jsonPath("$.pipelines.orders.ledger.duplicates")
          .isEqualTo(10)
          .jsonPath("$.pipelines.orders.ledger.balanced")
          .isEqualTo(true)
          .jsonPath("$.pipelines.orders.deadLetters.total")
          .isEqualTo(1)
          .jsonPath("$.pipelines.orders.deadLetters.lastHourByReason.NON_RETRYABLE")
          .isEqualTo(1)
          .jsonPath("$.store")
          .value(s -> assertThat((String) s).contains("Redis"));
      http.get()
          .uri("/actuator/onceflow/orders")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.ledger.processed")
          .isEqualTo(21);
      http.get().uri("/actuator/onceflow/nope").exchange().expectStatus().isNotFound();
      http.get()
          .uri("/actuator/health")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.components.onceflow.components.orders.status")
          .isEqualTo("UP")
          .jsonPath("$.components.onceflow.components.orders.details.store")
          .isEqualTo("reachable");
      String scrape =
          http.get()
              .uri("/actuator/prometheus")
              .exchange()
              .expectStatus()
              .isOk()
              .expectBody(String.class)
              .returnResult()
              .getResponseBody();
      assertThat(scrape)
          .containsPattern(
              "onceflow_deliveries_total\\{[^}]*outcome=\"processed\"[^}]*pipeline=\"orders\"[^}]*\\} 21\\.0");

      // the poison order went to <topic>.DLT, created at start
      assertThat(deadLetterValues(topic + ".DLT"))
          .containsExactly("{\"item\":\"x\",\"amount\":-1}");

      // Redis goes away: the next order cannot be deduplicated, the pipeline pauses, health is DOWN
      redis.down();
      try (KafkaProducer<byte[], byte[]> producer = producer()) {
        send(
            producer,
            topic,
            "x-order-id",
            "order-during-outage",
            "{\"item\":\"cup\",\"amount\":5}");
      }
      await(
          "the store gate to shut",
          Duration.ofSeconds(30),
          () ->
              pipelines.pipeline("orders").state().status()
                  == PipelineState.Status.PAUSED_STORE_UNAVAILABLE);
      http.get()
          .uri("/actuator/health")
          .exchange()
          .expectStatus()
          .isEqualTo(503)
          .expectBody()
          .jsonPath("$.status")
          .isEqualTo("DOWN")
          .jsonPath("$.components.onceflow.components.orders.status")
          .isEqualTo("DOWN")
          .jsonPath("$.components.onceflow.components.orders.details.store")
          .isEqualTo("unreachable");
      assertThat(app.charged).doesNotContainKey("order-during-outage");

      // Redis is back: the pipeline resumes by itself, handles the order once, health is UP
      redis.up();
      await(
          "the order of the outage to be handled",
          Duration.ofSeconds(60),
          () -> app.charged.containsKey("order-during-outage"));
      await(
          "health UP",
          Duration.ofSeconds(30),
          () -> pipelines.pipeline("orders").state().status() == PipelineState.Status.RUNNING);
      http.get()
          .uri("/actuator/health")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.components.onceflow.components.orders.status")
          .isEqualTo("UP");
      assertThat(app.charged.get("order-during-outage")).hasValue(1);
    } finally {
      ctx.close();
    }
    // stopped with the context, gracefully: nothing in flight, every offset committed
    assertThat(pipelines.pipeline("orders").state().status())
        .isEqualTo(PipelineState.Status.STOPPED);
    assertThat(pipelines.pipeline("orders").ledger().inFlight()).isZero();
    long committed =
        kafka.committedOffsets("billing-" + run).values().stream().mapToLong(o -> o.offset()).sum();
    assertThat(committed).isEqualTo(33);
  }

  private static List<String> deadLetterValues(String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "dlt-reader-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (values.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          values.add(new String(r.value(), StandardCharsets.UTF_8));
        }
      }
    }
    return values;
  }
}
