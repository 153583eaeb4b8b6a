package dev.onceflow.rabbitmq;

import com.rabbitmq.client.GetResponse;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.rabbitmq.internal.AmqpMessages;
import dev.onceflow.test.AdapterConformance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** The adapter conformance suite of onceflow-test, on the real RabbitMQ. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RabbitConformanceIT extends AdapterConformance {

  private RabbitBroker.Admin broker;
  private RabbitPublisher publisher;
  private final List<String> queues = new ArrayList<>();
  private final Map<String, RabbitDeadLetter> sinks = new ConcurrentHashMap<>();

  @BeforeAll
  void connect() {
    RabbitBroker.requireRunning();
    broker = new RabbitBroker.Admin();
    publisher = RabbitPublisher.create(RabbitBroker.URI);
  }

  @AfterAll
  void cleanUp() throws Exception {
    sinks.values().forEach(RabbitDeadLetter::close);
    publisher.close();
    queues.forEach(broker::deleteQueue);
    broker.close();
  }

  @Override
  protected String newDestination() {
    String q = RabbitBroker.uniqueName("conformance");
    queues.add(q);
    queues.add(q + ".dlq");
    try {
      broker.declareQueue(q, Map.of());
    } catch (Exception e) {
      throw new IllegalStateException("cannot declare " + q, e);
    }
    return q;
  }

  @Override
  protected MessageSource source(String destination) {
    return RabbitSource.create(
        RabbitSourceOptions.builder()
            .uri(RabbitBroker.URI)
            .queue(destination)
            .prefetch(10)
            .build());
  }

  @Override
  protected void publish(String destination, Envelope message) {
    publisher.publish(destination, message).block(Duration.ofSeconds(30));
  }

  @Override
  protected DeadLetterSink deadLetterSink(String destination) {
    return sinks.computeIfAbsent(
        destination,
        q ->
            RabbitDeadLetter.create(
                RabbitDeadLetterOptions.builder()
                    .uri(RabbitBroker.URI)
                    .queue(q + ".dlq")
                    .declareQueue(true)
                    .build()));
  }

  @Override
  protected List<Map<String, String>> readDeadLetters(String destination, int count) {
    List<Map<String, String>> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout().toNanos();
    try {
      while (out.size() < count && System.nanoTime() < deadline) {
        GetResponse got =
            broker.admin().getQueueInfo(destination + ".dlq") == null
                ? null
                : broker.get(destination + ".dlq");
        if (got == null) {
          Thread.sleep(100);
          continue;
        }
        out.add(AmqpMessages.stringHeaders(got.getProps().getHeaders()));
      }
    } catch (Exception e) {
      throw new IllegalStateException("reading dead letters of " + destination, e);
    }
    return out;
  }

  /**
   * Ready plus unacked: once no consumer is left on the queue (a stopped source closed its
   * channels, so the broker requeued whatever was unacked), the ready count is both.
   */
  @Override
  protected long remaining(String destination) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (broker.consumers(destination) > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return broker.ready(destination);
  }
}
