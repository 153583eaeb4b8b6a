package dev.onceflow.examples.webflux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import dev.onceflow.examples.Orders;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.pipeline.Pipeline;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class OrdersServiceIT {

  @Test
  void ledgerAndHealthAreServedWhileThePipelineRunsAndItStopsWithTheService() {
    InMemorySource queue = InMemorySource.create("orders");
    for (int n = 0; n < 200; n++) {
      queue.publish(
          Envelope.builder()
              .messageId("order-" + n / 2)
              .payload(Orders.payload(n / 2))
              .origin(Origin.kafka("orders", 0, n)));
    }
    Pipeline<String, String> pipeline =
        Orders.pipeline(
            "orders", queue, InMemoryDeadLetters.create(), InMemoryIdempotencyStore.create());
    OrdersService service = OrdersService.start(pipeline, "127.0.0.1", 0, Duration.ofSeconds(5));
    WebClient client = WebClient.create("http://127.0.0.1:" + service.port());
    try {
      StepVerifier.create(
              Mono.defer(() -> client.get().uri("/ledger").retrieve().bodyToMono(String.class))
                  .filter(
                      json -> json.contains("\"delivered\":200") && json.contains("\"inFlight\":0"))
                  .repeatWhenEmpty(30, f -> f.delayElements(Duration.ofMillis(100))))
          .assertNext(
              json ->
                  assertThat(json)
                      .contains("\"processed\":100")
                      .contains("\"duplicates\":100")
                      .contains("\"balanced\":true")
                      .contains("\"running\":true"))
          .verifyComplete();
      StepVerifier.create(
              client
                  .get()
                  .uri("/health")
                  .exchangeToMono(
                      r -> r.bodyToMono(String.class).map(b -> r.statusCode() + " " + b)))
          .expectNext(HttpStatusCode.valueOf(200) + " {\"status\":\"UP\"}")
          .verifyComplete();
    } finally {
      service.close();
    }
    assertThat(pipeline.running()).isFalse();
  }
}
