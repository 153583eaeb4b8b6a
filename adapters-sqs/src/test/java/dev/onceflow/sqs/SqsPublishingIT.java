package dev.onceflow.sqs;

import static dev.onceflow.test.OperationFailures.assertOperationFailed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterReason;
import dev.onceflow.sqs.internal.SqsMessages;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/** {@link SqsPublisher} and {@link SqsDeadLetter} against ElasticMQ. */
@ExtendWith(ElasticMqExtension.class)
class SqsPublishingIT {

  private static ElasticMq mq;

  @BeforeAll
  static void elasticMq() {
    mq = ElasticMqExtension.mq();
  }

  private static Origin anywhere() {
    return new Origin(BrokerKind.SQS, "test", -1, -1, null, null, false, 0);
  }

  private static List<Message> receiveAll(String queueUrl, int expected) {
    List<Message> out = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              out.addAll(
                  mq.client()
                      .receiveMessage(
                          ReceiveMessageRequest.builder()
                              .queueUrl(queueUrl)
                              .maxNumberOfMessages(10)
                              .waitTimeSeconds(1)
                              .visibilityTimeout(60)
                              .messageAttributeNames("All")
                              .messageSystemAttributeNames(MessageSystemAttributeName.ALL)
                              .build())
                      .join()
                      .messages());
              return out.size() >= expected;
            });
    return out;
  }

  private static SqsSource source(String queueUrl) {
    return SqsSource.create(
        SqsSourceOptions.builder()
            .client(mq.client())
            .queueUrl(queueUrl)
            .waitTime(Duration.ofSeconds(1))
            .build());
  }

  @Test
  void publishAllReturnsTheIdsInOrderAndEveryMessageArrives() {
    String q = mq.createQueue("batch");
    List<Envelope> envelopes = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      envelopes.add(
          Envelope.builder()
              .messageId("b-" + i)
              .payload(("p" + i).getBytes(StandardCharsets.UTF_8))
              .origin(anywhere())
              .build());
    }

    List<String> ids =
        SqsPublisher.create(mq.client())
            .publishAll(q, envelopes)
            .block(Duration.ofSeconds(10))
            .stream()
            .map(SqsPublishResult::messageId)
            .toList();

    assertThat(ids).containsExactlyElementsOf(envelopes.stream().map(Envelope::messageId).toList());
    List<Message> got = receiveAll(q, 25);
    assertThat(got.stream().map(m -> m.messageAttributes().get("onceflow-id").stringValue()))
        .containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void messageWithoutIdGetsOneThatStaysTheSameWhenThePublishIsRepeated() {
    String q = mq.createQueue("stable-id");
    Mono<SqsPublishResult> publish =
        SqsPublisher.create(mq.client())
            .publish(q, Envelope.builder().payload("x".getBytes(StandardCharsets.UTF_8)).build());

    SqsPublishResult r1 = publish.block(Duration.ofSeconds(10));
    SqsPublishResult r2 = publish.block(Duration.ofSeconds(10)); // a retry resubscribes
    assertThat(r1.destination()).isEqualTo(q);
    assertThat(r1.sqsMessageId()).isNotEqualTo(r2.sqsMessageId());
    assertThat(r1.sequenceNumber()).as("a standard queue has none").isNull();
    String first = r1.messageId();
    String second = r2.messageId();

    assertThat(first).isNotBlank().isEqualTo(second);
    List<Message> got = receiveAll(q, 2);
    assertThat(got).hasSize(2);
    assertThat(got)
        .allSatisfy(
            m ->
                assertThat(m.messageAttributes().get("onceflow-id").stringValue())
                    .isEqualTo(first));
  }

  @Test
  void fifoMessagesCarryTheMessageIdAsDedupIdAndTheKeyAsGroupId() {
    String q = mq.createFifoQueue("fifo-ids");
    SqsPublisher publisher = SqsPublisher.create(mq.client());
    Envelope keyed =
        Envelope.builder()
            .messageId("m-1")
            .entityKey("cust-9")
            .payload(new byte[] {'a'})
            .origin(anywhere())
            .build();
    Envelope keyless =
        Envelope.builder().messageId("m-2").payload(new byte[] {'b'}).origin(anywhere()).build();

    assertThat(publisher.publish(q, keyed).block(Duration.ofSeconds(10)).sequenceNumber())
        .as("FIFO queues number their messages")
        .isNotBlank();
    publisher.publish(q, keyless).block(Duration.ofSeconds(10));
    publisher.publish(q, keyed).block(Duration.ofSeconds(10)); // dropped by SQS: same dedup id

    List<Message> got = receiveAll(q, 2);
    Map<String, Message> byId =
        got.stream()
            .collect(
                Collectors.toMap(
                    m -> m.messageAttributes().get("onceflow-id").stringValue(), m -> m));
    assertThat(byId).containsOnlyKeys("m-1", "m-2");
    assertThat(byId.get("m-1").attributes())
        .containsEntry(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID, "m-1")
        .containsEntry(MessageSystemAttributeName.MESSAGE_GROUP_ID, "cust-9");
    assertThat(byId.get("m-2").attributes())
        .containsEntry(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID, "m-2")
        .containsEntry(MessageSystemAttributeName.MESSAGE_GROUP_ID, "m-2");
    // Nothing else arrives: the third publish was deduplicated.
    assertThat(
            mq.client()
                .receiveMessage(b -> b.queueUrl(q).waitTimeSeconds(1).maxNumberOfMessages(10))
                .join()
                .messages())
        .isEmpty();
  }

  @Test
  void deadLetterCarriesTheOriginalAndTheMetadataAsHeaders() {
    String dlq = mq.createQueue("dlq");
    Envelope original =
        Envelope.builder()
            .messageId("order-5")
            .entityKey("cust-1")
            .header("tenant", "acme")
            .payload("{\"bad\":true}".getBytes(StandardCharsets.UTF_8))
            .origin(new Origin(BrokerKind.SQS, "orders", -1, -1, "sqs-id-1", "rh", true, 4))
            .build();
    Instant first = Instant.parse("2026-01-01T00:00:00Z");
    DeadLetter dl =
        new DeadLetter(
            original,
            DeadLetterReason.NON_RETRYABLE,
            IllegalArgumentException.class.getName(),
            "x".repeat(2000),
            1,
            first,
            first.plusSeconds(1),
            "billing",
            "order-5");

    SqsDeadLetter.create(mq.client(), dlq).publish(dl).block(Duration.ofSeconds(10));

    Delivery d = source(dlq).receive().blockFirst(Duration.ofSeconds(10));
    Envelope e = d.envelope();
    assertThat(e.messageId()).isEqualTo("order-5");
    assertThat(e.entityKey()).isEqualTo("cust-1");
    assertThat(e.payload()).isEqualTo(original.payload());
    assertThat(e.headers())
        .containsEntry("tenant", "acme")
        .containsEntry(DeadLetter.REASON, "NON_RETRYABLE")
        .containsEntry(DeadLetter.EXCEPTION_CLASS, IllegalArgumentException.class.getName())
        .containsEntry(DeadLetter.EXCEPTION_MESSAGE, "x".repeat(DeadLetter.MAX_EXCEPTION_MESSAGE))
        .containsEntry(DeadLetter.ATTEMPTS, "1")
        .containsEntry(DeadLetter.FIRST_FAILURE, first.toString())
        .containsEntry(DeadLetter.PIPELINE, "billing")
        .containsEntry(DeadLetter.ORIGIN_DESTINATION, "orders")
        .containsEntry(DeadLetter.ORIGIN_MESSAGE_ID, "sqs-id-1");
    Message raw = receiveAllVisibleAgain(dlq, d);
    assertThat(raw.messageAttributes()).hasSizeLessThanOrEqualTo(10).containsKey(DeadLetter.REASON);
  }

  @Test
  void readyFailsNamingAMissingDeadLetterQueueByUrlOrByName() {
    String url = mq.createQueue("gone");
    mq.client().deleteQueue(b -> b.queueUrl(url)).join();
    String name = "never-" + ElasticMq.uniqueId();
    for (SqsDeadLetter sink :
        List.of(
            SqsDeadLetter.create(mq.client(), url),
            SqsDeadLetter.create(
                SqsDeadLetterOptions.builder().client(mq.client()).queueName(name).build()))) {
      String expected = sink.options().queueUrl() != null ? SqsMessages.queueNameOf(url) : name;
      StepVerifier.create(sink.ready())
          .expectErrorSatisfies(
              e ->
                  assertOperationFailed(e, SqsOperationException.CHECK_QUEUE, expected)
                      .isInstanceOf(SqsOperationException.class)
                      .hasMessageContaining("does not exist")
                      .hasMessageContaining("createQueue(true)"))
          .verify(Duration.ofSeconds(10));
    }
  }

  @Test
  void readyCreatesAMissingDeadLetterQueueWhenAllowedAndItTakesDeadLetters() {
    String name = "created-dlq-" + ElasticMq.uniqueId() + ".fifo";
    SqsDeadLetter sink =
        SqsDeadLetter.create(
            SqsDeadLetterOptions.builder()
                .client(mq.client())
                .queueName(name)
                .createQueue(true)
                .build());
    StepVerifier.create(sink.ready()).verifyComplete();
    String url = mq.client().getQueueUrl(b -> b.queueName(name)).join().queueUrl();
    assertThat(
            mq.client()
                .getQueueAttributes(
                    b -> b.queueUrl(url).attributeNames(QueueAttributeName.FIFO_QUEUE))
                .join()
                .attributes())
        .containsEntry(QueueAttributeName.FIFO_QUEUE, "true");
    StepVerifier.create(sink.ready()).as("it exists now").verifyComplete();
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    sink.publish(
            new DeadLetter(
                Envelope.builder().messageId("m").payload(new byte[] {'x'}).build(),
                DeadLetterReason.HANDLER_FAILED,
                null,
                null,
                1,
                t,
                t,
                "p",
                "m"))
        .block(Duration.ofSeconds(10));
    assertThat(mq.messagesLeft(url)).isEqualTo(1);
    StepVerifier.create(SqsDeadLetter.create(mq.client(), url).ready()).verifyComplete();
  }

  /** Makes the delivery visible again and reads the raw SQS message behind it. */
  private static Message receiveAllVisibleAgain(String queueUrl, Delivery d) {
    d.nack(Duration.ZERO).block(Duration.ofSeconds(10));
    return receiveAll(queueUrl, 1).get(0);
  }

  @Test
  void fifoDeadLetterQueueKeepsASecondDeadLetterOfTheSameMessage() {
    String dlq = mq.createFifoQueue("dlq");
    Envelope original =
        Envelope.builder().messageId("again").payload(new byte[] {'z'}).origin(anywhere()).build();
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    SqsDeadLetter sink = SqsDeadLetter.create(mq.client(), dlq);

    sink.publish(
            new DeadLetter(
                original, DeadLetterReason.HANDLER_FAILED, null, null, 3, t, t, "p", "again"))
        .block(Duration.ofSeconds(10));
    sink.publish(
            new DeadLetter(
                original,
                DeadLetterReason.HANDLER_FAILED,
                null,
                null,
                3,
                t,
                t.plusSeconds(60),
                "p",
                "again"))
        .block(Duration.ofSeconds(10));

    assertThat(receiveAll(dlq, 2)).hasSize(2);
  }

  @Test
  void redrivePolicyMovesAMessageTheConsumerKeepsNackingToTheDeadLetterQueue() {
    String dlq = mq.createQueue("redrive-dlq");
    String q =
        mq.createQueue(
            "redrive-src",
            Map.of(
                QueueAttributeName.REDRIVE_POLICY, SqsDeadLetter.redrivePolicy(mq.arnOf(dlq), 2)));
    SqsPublisher.create(mq.client())
        .publish(q, Envelope.builder().messageId("r-1").payload(new byte[] {'r'}).build())
        .block(Duration.ofSeconds(10));

    // Received and nacked twice: maxReceiveCount reached.
    List<Delivery> nacked =
        source(q)
            .receive()
            .concatMap(d -> d.nack(Duration.ZERO).thenReturn(d))
            .take(2)
            .collectList()
            .block(Duration.ofSeconds(10));
    assertThat(nacked).extracting(d -> d.envelope().origin().attempt()).containsExactly(1, 2);

    // The next receive on the source makes SQS move it.
    assertThat(mq.client().receiveMessage(b -> b.queueUrl(q).waitTimeSeconds(1)).join().messages())
        .isEmpty();
    Delivery moved = source(dlq).receive().blockFirst(Duration.ofSeconds(10));
    assertThat(moved.envelope().messageId()).isEqualTo("r-1");
    assertThat(moved.envelope().payload()).containsExactly('r');
    assertThat(mq.messagesLeft(q)).isZero();
  }

  @Test
  void redrivePolicyValueIsTheJsonSqsExpects() {
    assertThat(SqsDeadLetter.redrivePolicy("arn:aws:sqs:us-east-1:1:dlq", 5))
        .isEqualTo(
            "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:1:dlq\",\"maxReceiveCount\":\"5\"}");
  }

  @Test
  void readmeExampleProcessesEachOrderOnceAndDeadLettersThePoison() {
    String orders = mq.createQueue("example");
    String dlq = mq.createQueue("example-dlq");

    var ledger = SqsExample.run(mq.client(), orders, dlq);

    assertThat(ledger.processed()).isEqualTo(19);
    assertThat(ledger.duplicates()).isEqualTo(5);
    assertThat(ledger.deadLettered()).isEqualTo(1);
    assertThat(mq.messagesLeft(orders)).isZero();
    assertThat(mq.messagesLeft(dlq)).isEqualTo(1);
  }
}
