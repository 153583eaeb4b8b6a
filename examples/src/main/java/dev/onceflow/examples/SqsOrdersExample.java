package dev.onceflow.examples;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.examples.internal.StoreChoice;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.sqs.SqsDeadLetter;
import dev.onceflow.sqs.SqsPublisher;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.sqs.SqsSourceOptions;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;

/**
 * Orders from SQS: creates a queue and its dead-letter queue, publishes 1,000 orders twice each
 * (same onceflow id), consumes them with {@link Orders#pipeline}, and prints the ledger. Needs an
 * SQS endpoint: the first argument (default {@code http://127.0.0.1:9324}, ElasticMQ's port); uses
 * Redis at 127.0.0.1:6379 when it answers, the in-memory store otherwise.
 */
public final class SqsOrdersExample {

  static final int ORDERS = 1_000;

  private SqsOrdersExample() {}

  public static void main(String[] args) {
    Ledger l = run(args.length > 0 ? args[0] : "http://127.0.0.1:9324");
    System.out.println("ledger: " + l);
    System.exit(l.processed() == ORDERS && l.duplicates() == ORDERS ? 0 : 1);
  }

  static Ledger run(String endpoint) {
    String name = "orders-example-" + System.currentTimeMillis();
    try (SqsAsyncClient client =
            SqsAsyncClient.builder()
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .credentialsProvider(
                    StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
                .build();
        StoreChoice stores =
            StoreChoice.redisIfAnswering("redis://127.0.0.1:6379", "onceflow-examples")) {
      String queueUrl =
          client
              .createQueue(CreateQueueRequest.builder().queueName(name).build())
              .join()
              .queueUrl();
      String dlqUrl =
          client
              .createQueue(CreateQueueRequest.builder().queueName(name + "-dlq").build())
              .join()
              .queueUrl();
      List<Envelope> messages = new ArrayList<>();
      for (int n = 0; n < ORDERS * 2; n++) {
        messages.add(
            Envelope.builder()
                .messageId("order-" + n / 2)
                .entityKey("customer-" + (n / 2 % 50))
                .payload(Orders.payload(n / 2))
                .build());
      }
      SqsPublisher.create(client).publishAll(queueUrl, messages).block(Duration.ofSeconds(60));

      // The broker-specific lines: the source and the dead-letter destination.
      MessageSource source =
          SqsSource.create(
              SqsSourceOptions.builder()
                  .client(client)
                  .queueUrl(queueUrl)
                  .waitTime(Duration.ofSeconds(2)) // short long-polls: the example ends quickly
                  .build());
      DeadLetterSink deadLetters = SqsDeadLetter.create(client, dlqUrl);

      Pipeline<String, String> orders = Orders.pipeline(name, source, deadLetters, stores.store());
      Ledger ledger = Orders.runUntilSettled(orders, 2L * ORDERS, Duration.ofSeconds(60));
      System.out.println(
          "store: "
              + stores.description()
              + "; "
              + stores.effects(name, Orders.EFFECTS).size()
              + " orders charged");
      stores.deleteEffects(name, Orders.EFFECTS);
      return ledger;
    }
  }
}
