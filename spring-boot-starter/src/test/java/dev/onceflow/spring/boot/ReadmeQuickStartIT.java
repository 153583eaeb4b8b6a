package dev.onceflow.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.test.LocalServers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpStatus;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The README's quick start, as written: a handler bean, a POST route of the application's own, and
 * exactly the five properties (with this machine's addresses) give an idempotent Kafka consumer and
 * an idempotent POST.
 */
class ReadmeQuickStartIT {

  record Order(String item, int amount) {}

  record Receipt(String item, int charged) {}

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class NewProject {
    final Map<String, AtomicInteger> charged = new ConcurrentHashMap<>();
    final AtomicInteger posts = new AtomicInteger();

    @Bean
    PipelineHandler<Order, Receipt> orders() {
      return msg -> {
        charged.computeIfAbsent(msg.key(), k -> new AtomicInteger()).incrementAndGet();
        return Mono.just(new Receipt(msg.payload().item(), msg.payload().amount()));
      };
    }

    @Bean
    RouterFunction<ServerResponse> postOrders() {
      return RouterFunctions.route()
          .POST(
              "/orders",
              r ->
                  ServerResponse.status(HttpStatus.CREATED)
                      .bodyValue("order #" + posts.incrementAndGet()))
          .build();
    }
  }

  @Test
  void fiveLinesOfPropertiesAndAHandlerBean() throws Exception {
    LocalServers.requireRedis();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      kafka.createTopic("orders", 1);
      ConfigurableApplicationContext ctx =
          new SpringApplicationBuilder(NewProject.class)
              .web(WebApplicationType.REACTIVE)
              .properties(
                  "server.port=0",
                  // the README's five lines:
                  "onceflow.pipelines.orders.broker=kafka",
                  "onceflow.pipelines.orders.destination=orders",
                  "onceflow.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                  "onceflow.store.redis.uri=redis://127.0.0.1:6379",
                  "onceflow.http.idempotency.paths=/orders")
              .run();
      try {
        NewProject app = ctx.getBean(NewProject.class);
        String id = "readme-" + UUID.randomUUID();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
          for (int copy = 0; copy < 3; copy++) {
            ProducerRecord<byte[], byte[]> r =
                new ProducerRecord<>(
                    "orders", "{\"item\":\"book\",\"amount\":12}".getBytes(StandardCharsets.UTF_8));
            r.headers().add("onceflow-id", id.getBytes(StandardCharsets.UTF_8));
            producer.send(r).get();
          }
        }
        OnceflowPipelines pipelines = ctx.getBean(OnceflowPipelines.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (pipelines.pipeline("orders").ledger().duplicates() < 2
            && System.nanoTime() < deadline) {
          Mono.delay(Duration.ofMillis(100)).block();
        }
        assertThat(pipelines.pipeline("orders").ledger().duplicates()).isEqualTo(2);
        assertThat(app.charged.get(id)).hasValue(1);

        int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
        WebTestClient http =
            WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).build();
        String key = UUID.randomUUID().toString();
        EntityExchangeResult<String> first =
            http.post()
                .uri("/orders")
                .header("Idempotency-Key", key)
                .bodyValue("{}")
                .exchange()
                .expectStatus()
                .isCreated()
                .expectBody(String.class)
                .returnResult();
        EntityExchangeResult<String> again =
            http.post()
                .uri("/orders")
                .header("Idempotency-Key", key)
                .bodyValue("{}")
                .exchange()
                .expectStatus()
                .isCreated()
                .expectHeader()
                .valueEquals("Idempotent-Replayed", "true")
                .expectBody(String.class)
                .returnResult();
        assertThat(again.getResponseBody()).isEqualTo(first.getResponseBody());
        assertThat(app.posts).hasValue(1);
      } finally {
        ctx.close();
      }
    }
  }
}
