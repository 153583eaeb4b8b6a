package dev.onceflow.examples.boot;

import dev.onceflow.core.Envelope;
import dev.onceflow.kafka.KafkaPublisher;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /orders} takes an order over HTTP and puts it on the {@code orders} topic with its
 * {@code Idempotency-Key} as the message id, where the {@code orders} pipeline charges it. The
 * Idempotency-Key filter makes the POST itself idempotent (a repeat is answered from the store, and
 * nothing is published twice); the pipeline makes the charge idempotent (an order that also arrives
 * by Kafka with the same id is a duplicate). {@code GET /charges} lists what was charged.
 */
@RestController
public class OrdersController {

  /** The answer to {@code POST /orders}: where the order went. */
  public record Accepted(String order, String status, String topic, int partition, long offset) {}

  private final KafkaPublisher publisher;
  private final JsonMapper json;
  private final Billing billing;

  public OrdersController(KafkaPublisher publisher, JsonMapper json, Billing billing) {
    this.publisher = publisher;
    this.json = json;
    this.billing = billing;
  }

  @PostMapping("/orders")
  @ResponseStatus(HttpStatus.ACCEPTED)
  public Mono<Accepted> place(
      @RequestHeader("Idempotency-Key") String key, @RequestBody Order order) {
    Envelope message =
        Envelope.builder().messageId(key).payload(json.writeValueAsBytes(order)).build();
    return publisher
        .publish(OrdersApplication.TOPIC, message)
        .map(r -> new Accepted(key, "accepted", r.topic(), r.partition(), r.offset()));
  }

  @GetMapping("/charges")
  public List<Charge> charges() {
    return billing.charges();
  }
}
