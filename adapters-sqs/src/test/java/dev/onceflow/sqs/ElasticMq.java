package dev.onceflow.sqs;

import static org.assertj.core.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * An ElasticMQ server inside the test JVM on a dynamic loopback port, and a real {@code
 * SqsAsyncClient} pointed at it. One per test class: start in {@code @BeforeAll}, close in
 * {@code @AfterAll}.
 */
final class ElasticMq implements AutoCloseable {

  private static final AtomicInteger QUEUES = new AtomicInteger();

  private final SQSRestServer server;
  private final SqsAsyncClient client;
  final URI endpoint;

  private ElasticMq(SQSRestServer server, URI endpoint) {
    this.server = server;
    this.endpoint = endpoint;
    this.client =
        SqsAsyncClient.builder()
            .endpointOverride(endpoint)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .httpClientBuilder(
                NettyNioAsyncHttpClient.builder()
                    .maxConcurrency(200)
                    .connectionAcquisitionTimeout(Duration.ofSeconds(30)))
            .build();
  }

  static ElasticMq start() {
    long t0 = System.nanoTime();
    SQSRestServer server;
    InetSocketAddress address;
    try {
      server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
      address = server.waitUntilStarted().localAddress();
    } catch (RuntimeException e) {
      return fail(
          "ElasticMQ did not start inside the test JVM (it needs"
              + " org.elasticmq:elasticmq-rest-sqs_2.13 on the test classpath and a free loopback"
              + " port); run the tests with: mvn -pl adapters-sqs verify",
          e);
    }
    ElasticMq mq = new ElasticMq(server, URI.create("http://127.0.0.1:" + address.getPort()));
    System.out.printf(
        "ElasticMQ started in %d ms at %s%n", (System.nanoTime() - t0) / 1_000_000, mq.endpoint);
    return mq;
  }

  SqsAsyncClient client() {
    return client;
  }

  /** Creates a fresh standard queue and returns its URL. */
  String createQueue(String prefix) {
    return createQueue(prefix, Map.of());
  }

  String createQueue(String prefix, Map<QueueAttributeName, String> attributes) {
    String name = prefix + "-" + QUEUES.incrementAndGet();
    return client
        .createQueue(CreateQueueRequest.builder().queueName(name).attributes(attributes).build())
        .join()
        .queueUrl();
  }

  /** Creates a fresh FIFO queue (content-based deduplication off) and returns its URL. */
  String createFifoQueue(String prefix) {
    Map<QueueAttributeName, String> attributes = new HashMap<>();
    attributes.put(QueueAttributeName.FIFO_QUEUE, "true");
    String name = prefix + "-" + QUEUES.incrementAndGet() + ".fifo";
    return client
        .createQueue(CreateQueueRequest.builder().queueName(name).attributes(attributes).build())
        .join()
        .queueUrl();
  }

  String arnOf(String queueUrl) {
    return client
        .getQueueAttributes(
            GetQueueAttributesRequest.builder()
                .queueUrl(queueUrl)
                .attributeNames(QueueAttributeName.QUEUE_ARN)
                .build())
        .join()
        .attributes()
        .get(QueueAttributeName.QUEUE_ARN);
  }

  /** Visible + in-flight (+ delayed) messages of a queue. */
  long messagesLeft(String queueUrl) {
    Map<QueueAttributeName, String> a = counts(queueUrl);
    return Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
        + Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
        + Long.parseLong(
            a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED, "0"));
  }

  long visible(String queueUrl) {
    return Long.parseLong(counts(queueUrl).get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
  }

  long inFlight(String queueUrl) {
    return Long.parseLong(
        counts(queueUrl).get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
  }

  private Map<QueueAttributeName, String> counts(String queueUrl) {
    return client
        .getQueueAttributes(
            GetQueueAttributesRequest.builder()
                .queueUrl(queueUrl)
                .attributeNames(QueueAttributeName.ALL)
                .build())
        .join()
        .attributes();
  }

  static String uniqueId() {
    return UUID.randomUUID().toString();
  }

  @Override
  public void close() {
    long t0 = System.nanoTime();
    client.close();
    server.stopAndWait();
    System.out.printf("ElasticMQ stopped in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
  }
}
