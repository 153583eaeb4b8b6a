package dev.onceflow.examples.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Envelope;
import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.outcome.PipelineState;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.spring.boot.OnceflowPipelines;
import dev.onceflow.test.LocalServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;

/**
 * The orders service as the README runs it: its own in-JVM Kafka broker, the Redis store, POST
 * /orders with an Idempotency-Key twice, and the same order by HTTP and by Kafka charged once.
 */
class OrdersApplicationIT {

  private static void await(String what, Supplier<Boolean> condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (Boolean.TRUE.equals(condition.get())) {
        return;
      }
      Mono.delay(Duration.ofMillis(100)).block();
    }
    throw new AssertionError("timed out waiting for " + what);
  }

  private static EntityExchangeResult<byte[]> post(WebTestClient http, String key, String json) {
    return http.post()
        .uri("/orders")
        .header("Idempotency-Key", key)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(json)
        .exchange()
        .expectBody()
        .returnResult();
  }

  @Test
  void anOrderIsChargedOnceWhetherItComesTwiceByHttpOrByHttpAndKafka() {
    LocalServers.requireRedis();
    String run = UUID.randomUUID().toString().substring(0, 8);
    ConfigurableApplicationContext ctx =
        OrdersApplication.run(
            "--server.port=0",
            "--onceflow.store.redis.uri=redis://127.0.0.1:6379",
            "--onceflow.store.redis.key-prefix=it-orders-" + run);
    Billing billing = ctx.getBean(Billing.class);
    Pipeline<?, ?> orders = ctx.getBean(OnceflowPipelines.class).pipeline("orders");
    int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
    String bootstrap = ctx.getEnvironment().getProperty("onceflow.kafka.bootstrap-servers");
    WebTestClient http =
        WebTestClient.bindToServer()
            .baseUrl("http://127.0.0.1:" + port)
            .responseTimeout(Duration.ofSeconds(30))
            .build();
    try {
      // 1. the same key twice by HTTP: one charge, the second answer replayed
      String a = "order-a-" + run;
      EntityExchangeResult<byte[]> first = post(http, a, "{\"item\":\"book\",\"amount\":1200}");
      assertThat(first.getStatus().value()).isEqualTo(202);
      EntityExchangeResult<byte[]> second = post(http, a, "{\"item\":\"book\",\"amount\":1200}");
      assertThat(second.getStatus().value()).isEqualTo(202);
      assertThat(second.getResponseBody()).isEqualTo(first.getResponseBody());
      assertThat(second.getResponseHeaders().getFirst("Idempotent-Replayed")).isEqualTo("true");
      await("order a charged", () -> billing.timesCharged(a) == 1);

      // 2. the same order by Kafka afterwards (another producer, same id): a duplicate
      try (KafkaPublisher kafka = KafkaPublisher.create(bootstrap)) {
        kafka
            .publish(
                OrdersApplication.TOPIC,
                Envelope.builder()
                    .messageId(a)
                    .payload("{\"item\":\"book\",\"amount\":1200}".getBytes(StandardCharsets.UTF_8))
                    .build())
            .block(Duration.ofSeconds(30));
        await("the Kafka copy of a to be a duplicate", () -> orders.ledger().duplicates() >= 1);
        assertThat(billing.timesCharged(a)).isEqualTo(1);

        // 3. Kafka first, then HTTP with the same key: charged once
        String b = "order-b-" + run;
        kafka
            .publish(
                OrdersApplication.TOPIC,
                Envelope.builder()
                    .messageId(b)
                    .payload("{\"item\":\"pen\",\"amount\":300}".getBytes(StandardCharsets.UTF_8))
                    .build())
            .block(Duration.ofSeconds(30));
        await("order b charged", () -> billing.timesCharged(b) == 1);
        assertThat(post(http, b, "{\"item\":\"pen\",\"amount\":300}").getStatus().value())
            .isEqualTo(202);
        await("the HTTP copy of b to be a duplicate", () -> orders.ledger().duplicates() >= 2);
        assertThat(billing.timesCharged(b)).isEqualTo(1);
      }

      http.get()
          .uri("/charges")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.length()")
          .isEqualTo(2);
      http.get()
          .uri("/actuator/health")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.components.onceflow.components.orders.status")
          .isEqualTo("UP");
      http.get()
          .uri("/actuator/onceflow")
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.pipelines.orders.ledger.processed")
          .isEqualTo(2)
          .jsonPath("$.pipelines.orders.ledger.duplicates")
          .isEqualTo(2)
          .jsonPath("$.pipelines.orders.ledger.balanced")
          .isEqualTo(true);
      assertThat(
              http.get()
                  .uri("/actuator/prometheus")
                  .exchange()
                  .expectStatus()
                  .isOk()
                  .expectBody(String.class)
                  .returnResult()
                  .getResponseBody())
          .contains("onceflow_deliveries_total")
          .contains("pipeline=\"orders\"");
    } finally {
      ctx.close();
    }
    assertThat(orders.state().status()).isEqualTo(PipelineState.Status.STOPPED);
  }
}
