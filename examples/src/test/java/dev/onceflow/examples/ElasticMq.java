package dev.onceflow.examples;

import static org.assertj.core.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.net.URI;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;

/** ElasticMQ inside the test JVM on a dynamic loopback port (as adapters-sqs's tests do). */
public final class ElasticMq implements AutoCloseable {

  private final SQSRestServer server;
  private final SqsAsyncClient client;
  private final String endpoint;

  private ElasticMq(SQSRestServer server, String endpoint) {
    this.server = server;
    this.endpoint = endpoint;
    this.client =
        SqsAsyncClient.builder()
            .endpointOverride(URI.create(endpoint))
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
            .build();
  }

  public static ElasticMq start() {
    try {
      SQSRestServer server =
          SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
      InetSocketAddress address = server.waitUntilStarted().localAddress();
      return new ElasticMq(server, "http://127.0.0.1:" + address.getPort());
    } catch (RuntimeException e) {
      return fail(
          "ElasticMQ did not start inside the test JVM (needs"
              + " org.elasticmq:elasticmq-rest-sqs_2.13 on the test classpath and a free loopback"
              + " port); run: mvn -pl examples verify",
          e);
    }
  }

  public String endpoint() {
    return endpoint;
  }

  /** Creates a standard queue and returns its URL. */
  public String createQueue(String name) {
    return client
        .createQueue(CreateQueueRequest.builder().queueName(name).build())
        .join()
        .queueUrl();
  }

  @Override
  public void close() {
    client.close();
    server.stopAndWait();
  }
}
