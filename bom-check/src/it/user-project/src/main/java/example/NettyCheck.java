package example;

import dev.onceflow.core.Envelope;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.rabbitmq.RabbitSource;
import dev.onceflow.redis.RedisIdempotencyStore;
import dev.onceflow.redis.RedisStoreOptions;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.test.AdapterConformance;
import io.netty.util.Version;
import java.net.URI;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;

/**
 * Run by the user-style project: every Netty artifact on one version, the AWS SDK's Netty client
 * and lettuce working side by side. Exits non-zero (an exception) otherwise.
 */
public final class NettyCheck {

  public static void main(String[] args) throws Exception {
    // Every module is on the classpath and links.
    Class<?>[] modules = {
      Envelope.class, KafkaSource.class, EmbeddedKafka.class, RabbitSource.class,
      SqsSource.class, RedisIdempotencyStore.class, AdapterConformance.class
    };
    String expected = System.getProperty("expected.netty.version");
    Map<String, String> versions = new TreeMap<>();
    Version.identify().forEach((artifact, v) -> versions.put(artifact, v.artifactVersion()));
    if (versions.isEmpty()) {
      throw new IllegalStateException("no Netty artifact on the classpath");
    }
    for (Map.Entry<String, String> v : versions.entrySet()) {
      if (!v.getValue().equals(expected)) {
        throw new IllegalStateException(
            "Netty does not converge on " + expected + ": " + v.getKey() + " is " + v.getValue()
                + "; all: " + versions);
      }
    }

    // The SQS client's Netty pipeline, through a real request (refused: nothing listens there).
    try (SdkAsyncHttpClient http = NettyNioAsyncHttpClient.builder().build();
        SqsAsyncClient sqs =
            SqsAsyncClient.builder()
                .httpClient(http)
                .region(Region.US_EAST_1)
                .credentialsProvider(AnonymousCredentialsProvider.create())
                .endpointOverride(URI.create("http://127.0.0.1:1"))
                .build()) {
      try {
        sqs.listQueues().join();
      } catch (CompletionException expectedRefusal) {
        for (Throwable t = expectedRefusal; t != null; t = t.getCause()) {
          if (t instanceof LinkageError) {
            throw new IllegalStateException("the AWS Netty client does not link", t);
          }
        }
      }

      // lettuce connects to Redis on the same classpath (mixed Netty: AbstractMethodError).
      try (RedisIdempotencyStore store =
          RedisIdempotencyStore.create(
              RedisStoreOptions.builder()
                  .standalone("redis://127.0.0.1:6379")
                  .keyPrefix("onceflow-bom-check-" + UUID.randomUUID())
                  .build())) {
        System.out.println(
            "bom-check: " + modules.length + " modules link; " + versions.size()
                + " Netty artifacts all on " + expected + "; lettuce connected beside the AWS"
                + " Netty client (" + store + ")");
      }
    }
  }

  private NettyCheck() {}
}
