package dev.onceflow.sqs;

import static org.awaitility.Awaitility.await;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.test.AdapterConformance;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** The adapter conformance suite of framework-test, on ElasticMQ queues. */
@ExtendWith(ElasticMqExtension.class)
class SqsConformanceIT extends AdapterConformance {

  private static ElasticMq mq;
  private static final Map<String, String> DEAD_LETTER_QUEUES = new ConcurrentHashMap<>();

  @BeforeAll
  static void elasticMq() {
    mq = ElasticMqExtension.mq();
  }

  @Override
  protected String newDestination() {
    String q = mq.createQueue("conformance");
    DEAD_LETTER_QUEUES.put(q, mq.createQueue("conformance-dlq"));
    return q;
  }

  @Override
  protected MessageSource source(String destination) {
    return SqsSource.create(
        SqsSourceOptions.builder()
            .client(mq.client())
            .queueUrl(destination)
            .waitTime(Duration.ofSeconds(1))
            // short, so that what an abruptly stopped consumer held comes back quickly
            .visibilityTimeout(Duration.ofSeconds(2))
            .build());
  }

  @Override
  protected void publish(String destination, Envelope message) {
    SqsPublisher.create(mq.client()).publish(destination, message).block(timeout());
  }

  @Override
  protected DeadLetterSink deadLetterSink(String destination) {
    return SqsDeadLetter.create(mq.client(), DEAD_LETTER_QUEUES.get(destination));
  }

  @Override
  protected List<Map<String, String>> readDeadLetters(String destination, int count) {
    String dlq = DEAD_LETTER_QUEUES.get(destination);
    await().atMost(timeout()).until(() -> mq.messagesLeft(dlq) >= count);
    return SqsSource.create(
            SqsSourceOptions.builder()
                .client(mq.client())
                .queueUrl(dlq)
                .waitTime(Duration.ofSeconds(1))
                .build())
        .receive()
        .take(count)
        .map(Delivery::envelope)
        .map(Envelope::headers)
        .collectList()
        .block(timeout());
  }

  @Override
  protected long remaining(String destination) {
    return mq.messagesLeft(destination);
  }
}
