package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.fail;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessagePublisher;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.KafkaSourceOptions;
import dev.onceflow.kafka.embedded.EmbeddedKafka;
import dev.onceflow.rabbitmq.RabbitPublisher;
import dev.onceflow.rabbitmq.RabbitSource;
import dev.onceflow.rabbitmq.RabbitSourceOptions;
import dev.onceflow.sqs.SqsPublisher;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.sqs.SqsSourceOptions;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.DeleteQueueRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The three brokers: Kafka (the in-JVM KRaft broker), RabbitMQ on 127.0.0.1:5672 and ElasticMQ (in
 * the test JVM). Kafka and ElasticMQ start once per test JVM, on first use.
 */
final class Brokers {

  static final String AMQP = "amqp://guest:guest@127.0.0.1:5672";

  /** The brokers, by the CLI's names. */
  enum Kind {
    kafka,
    rabbitmq,
    sqs
  }

  private static @Nullable EmbeddedKafka kafka;
  private static @Nullable SQSRestServer elasticMq;
  private static @Nullable String sqsEndpoint;
  private static @Nullable SqsAsyncClient sqsClient;

  private Brokers() {}

  /** The brokers of {@code -Dchaos.brokers=kafka,rabbitmq,sqs} (default: all three). */
  static List<Kind> selected() {
    String s = System.getProperty("chaos.brokers", "kafka,rabbitmq,sqs");
    return java.util.Arrays.stream(s.split(",")).map(String::trim).map(Kind::valueOf).toList();
  }

  static synchronized EmbeddedKafka kafka() {
    if (kafka == null) {
      EmbeddedKafka k = EmbeddedKafka.start();
      kafka = k;
      Runtime.getRuntime().addShutdownHook(new Thread(k::close, "chaos-kafka-stop"));
    }
    return kafka;
  }

  static synchronized SqsAsyncClient sqs() {
    if (sqsClient == null) {
      SQSRestServer server =
          SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
      InetSocketAddress address = server.waitUntilStarted().localAddress();
      elasticMq = server;
      sqsEndpoint = "http://127.0.0.1:" + address.getPort();
      sqsClient =
          SqsAsyncClient.builder()
              .endpointOverride(URI.create(sqsEndpoint))
              .region(Region.US_EAST_1)
              .credentialsProvider(
                  StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x")))
              .build();
      Runtime.getRuntime().addShutdownHook(new Thread(server::stopAndWait, "chaos-sqs-stop"));
    }
    return sqsClient;
  }

  static void requireRabbit() {
    dev.onceflow.test.LocalServers.requireRabbitMq();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5672), 2000);
    } catch (Exception e) {
      fail(
          "RabbitMQ does not answer at 127.0.0.1:5672: start it with `rabbitmq-server -detached`"
              + " (apt-get install -y rabbitmq-server), or run `bash .ci/run`, which starts it");
    }
  }

  /** A fresh destination (topic or queue, plus its dead-letter destination) for one run. */
  static Target target(Kind kind, String run, int partitions) {
    return switch (kind) {
      case kafka -> new KafkaTarget(run, partitions);
      case rabbitmq -> new RabbitTarget(run);
      case sqs -> new SqsTarget(run);
    };
  }

  /** One run's source and dead-letter destinations on a broker. */
  abstract static class Target implements AutoCloseable {

    final Kind kind;
    final String name;

    Target(Kind kind, String name) {
      this.kind = kind;
      this.name = name;
    }

    /** The CLI's broker arguments for {@code consume}. */
    abstract List<String> consumeArgs();

    abstract MessagePublisher<?> publisher();

    abstract String publishDestination();

    abstract MessageSource deadLetterSource();

    /** Messages still on the source (not acked / not committed) for the consumers' group. */
    abstract long leftovers(String group);

    /** What the broker side looks like when a run did not complete (empty where not known). */
    String diagnose(String group) {
      return "";
    }

    /** Publishes every envelope (32 at a time) and waits for the broker's confirms. */
    void publish(List<Envelope> messages) {
      MessagePublisher<?> p = publisher();
      try {
        Flux.fromIterable(messages)
            .flatMapSequential(e -> p.publish(publishDestination(), e), 32)
            .then()
            .block(Duration.ofMinutes(5));
      } finally {
        try {
          p.close();
        } catch (Exception ignored) {
          // the test goes on
        }
      }
    }

    /**
     * Reads the dead-letter destination: message id (the dead letter's key) to reason. Stops when
     * {@code expected} distinct ids were read and nothing more came for a second, or after {@code
     * idle} without a message.
     */
    Map<String, String> deadLetters(int expected, Duration idle) {
      Map<String, String> out = new ConcurrentHashMap<>();
      if (expected == 0) {
        return out;
      }
      deadLetterSource()
          .receive()
          .timeout(
              Mono.delay(idle.plusSeconds(15)),
              d -> Mono.delay(out.size() >= expected ? Duration.ofSeconds(1) : idle))
          .onErrorResume(TimeoutException.class, e -> Mono.empty())
          .concatMap(
              (Delivery d) -> {
                Envelope e = d.envelope();
                String key = e.headers().get(DeadLetter.DEDUP_KEY);
                String id = key != null ? key : e.messageId();
                if (id != null) {
                  out.put(id, e.headers().getOrDefault(DeadLetter.REASON, "UNKNOWN"));
                }
                return d.ack().onErrorResume(x -> Mono.empty());
              })
          .then()
          .block(Duration.ofMinutes(2));
      return out;
    }

    @Override
    public void close() {}
  }

  static final class KafkaTarget extends Target {
    private final int partitions;

    KafkaTarget(String run, int partitions) {
      super(Kind.kafka, "chaos-" + run);
      this.partitions = partitions;
      kafka().createTopic(name, partitions).createTopic(name + ".DLT", 1);
    }

    @Override
    List<String> consumeArgs() {
      return List.of(
          "--broker",
          "kafka",
          "--bootstrap-servers",
          kafka().bootstrapServers(),
          "--topic",
          name,
          "--kafka-session-timeout-ms",
          "6000");
    }

    @Override
    MessagePublisher<?> publisher() {
      return KafkaPublisher.create(kafka().bootstrapServers());
    }

    @Override
    String publishDestination() {
      return name;
    }

    @Override
    MessageSource deadLetterSource() {
      return KafkaSource.create(
          KafkaSourceOptions.builder()
              .bootstrapServers(kafka().bootstrapServers())
              .groupId("chaos-dlt-reader-" + name)
              .topics(name + ".DLT")
              .build());
    }

    @Override
    String diagnose(String group) {
      return KafkaDiagnosis.of(kafka(), name, partitions, group);
    }

    @Override
    long leftovers(String group) {
      Map<TopicPartition, OffsetAndMetadata> committed = kafka().committedOffsets(group);
      long left = 0;
      for (Map.Entry<TopicPartition, Long> end : kafka().endOffsets(name, partitions).entrySet()) {
        OffsetAndMetadata c = committed.get(end.getKey());
        left += end.getValue() - (c == null ? 0 : c.offset());
      }
      return left;
    }
  }

  static final class RabbitTarget extends Target {
    RabbitTarget(String run) {
      super(Kind.rabbitmq, "chaos-" + run);
      requireRabbit();
      CachingConnectionFactory cf = new CachingConnectionFactory(URI.create(AMQP));
      try {
        RabbitAdmin admin = new RabbitAdmin(cf);
        admin.declareQueue(new Queue(name, true, false, false));
        admin.declareQueue(new Queue(name + ".dlq", true, false, false));
      } finally {
        cf.destroy();
      }
    }

    @Override
    List<String> consumeArgs() {
      return List.of("--broker", "rabbitmq", "--amqp-uri", AMQP, "--queue", name);
    }

    @Override
    MessagePublisher<?> publisher() {
      return RabbitPublisher.create(AMQP);
    }

    @Override
    String publishDestination() {
      return name;
    }

    @Override
    MessageSource deadLetterSource() {
      return RabbitSource.create(
          RabbitSourceOptions.builder().uri(AMQP).queue(name + ".dlq").prefetch(64).build());
    }

    @Override
    long leftovers(String group) {
      CachingConnectionFactory cf = new CachingConnectionFactory(URI.create(AMQP));
      try {
        Properties p = new RabbitAdmin(cf).getQueueProperties(name);
        return p == null ? 0 : ((Number) p.get(RabbitAdmin.QUEUE_MESSAGE_COUNT)).longValue();
      } finally {
        cf.destroy();
      }
    }

    @Override
    public void close() {
      CachingConnectionFactory cf = new CachingConnectionFactory(URI.create(AMQP));
      try {
        RabbitAdmin admin = new RabbitAdmin(cf);
        admin.deleteQueue(name);
        admin.deleteQueue(name + ".dlq");
      } catch (RuntimeException ignored) {
        // best effort
      } finally {
        cf.destroy();
      }
    }
  }

  static final class SqsTarget extends Target {
    private final String url;
    private final String dlqUrl;

    SqsTarget(String run) {
      super(Kind.sqs, "chaos-" + run);
      SqsAsyncClient c = sqs();
      url = c.createQueue(CreateQueueRequest.builder().queueName(name).build()).join().queueUrl();
      dlqUrl =
          c.createQueue(CreateQueueRequest.builder().queueName(name + "-dlq").build())
              .join()
              .queueUrl();
    }

    @Override
    List<String> consumeArgs() {
      return List.of(
          "--broker",
          "sqs",
          "--sqs-endpoint",
          java.util.Objects.requireNonNull(sqsEndpoint),
          "--queue-url",
          url,
          "--dead-letter",
          dlqUrl,
          "--sqs-visibility-seconds",
          "5");
    }

    @Override
    MessagePublisher<?> publisher() {
      return SqsPublisher.create(sqs());
    }

    /** SendMessageBatch, ten at a time (one request per message is slow on ElasticMQ). */
    @Override
    void publish(List<Envelope> messages) {
      SqsPublisher p = SqsPublisher.create(sqs());
      List<List<Envelope>> batches = new java.util.ArrayList<>();
      for (int i = 0; i < messages.size(); i += 10) {
        batches.add(messages.subList(i, Math.min(i + 10, messages.size())));
      }
      Flux.fromIterable(batches)
          .flatMapSequential(b -> p.publishAll(url, b), 8)
          .then()
          .block(Duration.ofMinutes(5));
    }

    @Override
    String publishDestination() {
      return url;
    }

    @Override
    MessageSource deadLetterSource() {
      return SqsSource.create(
          SqsSourceOptions.builder()
              .client(sqs())
              .queueUrl(dlqUrl)
              .waitTime(Duration.ofSeconds(1))
              .build());
    }

    @Override
    long leftovers(String group) {
      Map<QueueAttributeName, String> a =
          sqs()
              .getQueueAttributes(
                  GetQueueAttributesRequest.builder()
                      .queueUrl(url)
                      .attributeNames(
                          QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                          QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)
                      .build())
              .join()
              .attributes();
      return Long.parseLong(a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, "0"))
          + Long.parseLong(
              a.getOrDefault(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE, "0"));
    }

    @Override
    public void close() {
      for (String u : List.of(url, dlqUrl)) {
        try {
          sqs().deleteQueue(DeleteQueueRequest.builder().queueUrl(u).build()).join();
        } catch (RuntimeException ignored) {
          // best effort
        }
      }
    }
  }
}
