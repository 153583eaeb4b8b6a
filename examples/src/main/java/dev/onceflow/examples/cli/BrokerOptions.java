package dev.onceflow.examples.cli;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessagePublisher;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.kafka.KafkaDeadLetter;
import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.KafkaSourceOptions;
import dev.onceflow.rabbitmq.RabbitDeadLetter;
import dev.onceflow.rabbitmq.RabbitDeadLetterOptions;
import dev.onceflow.rabbitmq.RabbitPublisher;
import dev.onceflow.rabbitmq.RabbitSource;
import dev.onceflow.rabbitmq.RabbitSourceOptions;
import dev.onceflow.sqs.SqsDeadLetter;
import dev.onceflow.sqs.SqsPublisher;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.sqs.SqsSourceOptions;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.SqsAsyncClientBuilder;

/**
 * The broker options every subcommand shares, and the factories of sources, dead-letter sinks and
 * publishers they make. Everything it creates is closed by {@link #close()}, newest first.
 */
final class BrokerOptions implements AutoCloseable {

  /** The brokers the CLI speaks to. */
  enum Broker {
    kafka,
    rabbitmq,
    sqs
  }

  @Spec(Spec.Target.MIXEE)
  @Nullable CommandSpec mixee;

  @Option(
      names = "--broker",
      required = true,
      paramLabel = "BROKER",
      description = "kafka, rabbitmq or sqs.")
  @Nullable Broker broker;

  @Option(
      names = "--bootstrap-servers",
      defaultValue = "127.0.0.1:9092",
      paramLabel = "HOST:PORT,...",
      description = "Kafka: bootstrap servers (default: ${DEFAULT-VALUE}).")
  String bootstrapServers = "127.0.0.1:9092";

  @Option(names = "--topic", paramLabel = "TOPIC", description = "Kafka: the topic.")
  @Nullable String topic;

  @Option(
      names = "--group",
      paramLabel = "GROUP",
      description = "Kafka: the consumer group (default: the pipeline name).")
  @Nullable String group;

  @Option(
      names = "--amqp-uri",
      defaultValue = "amqp://guest:guest@127.0.0.1:5672",
      paramLabel = "URI",
      description = "RabbitMQ: the AMQP URI (default: amqp://guest:***@127.0.0.1:5672).")
  String amqpUri = "amqp://guest:guest@127.0.0.1:5672";

  @Option(
      names = "--queue",
      paramLabel = "QUEUE",
      description = "RabbitMQ: the queue (declared durable when missing).")
  @Nullable String queue;

  @Option(
      names = "--sqs-endpoint",
      paramLabel = "URL",
      description =
          "SQS: an endpoint override such as http://127.0.0.1:9324 (ElasticMQ, LocalStack);"
              + " without it the AWS endpoint of --region.")
  @Nullable String sqsEndpoint;

  @Option(names = "--queue-url", paramLabel = "URL", description = "SQS: the queue URL.")
  @Nullable String queueUrl;

  @Option(
      names = "--region",
      defaultValue = "us-east-1",
      paramLabel = "REGION",
      description = "SQS: the AWS region (default: ${DEFAULT-VALUE}).")
  String region = "us-east-1";

  @Option(
      names = "--kafka-session-timeout-ms",
      hidden = true,
      defaultValue = "0",
      paramLabel = "MS",
      description =
          "Test hook (hidden): Kafka session.timeout.ms (0: Kafka's default), so that the partitions of a"
              + " killed consumer move on quickly.")
  int kafkaSessionTimeoutMs;

  @Option(
      names = "--sqs-visibility-seconds",
      hidden = true,
      defaultValue = "0",
      paramLabel = "S",
      description =
          "Test hook (hidden): the SQS visibility timeout (0: the source's default), so that the messages"
              + " of a killed consumer come back quickly.")
  int sqsVisibilitySeconds;

  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private @Nullable SqsAsyncClient sqsClient;

  Broker broker() {
    if (broker == null) {
      throw usage("--broker is required: kafka, rabbitmq or sqs");
    }
    return broker;
  }

  /** The source destination: the topic, the queue or the queue URL, as the broker needs. */
  String destination() {
    return switch (broker()) {
      case kafka -> require(topic, "--topic is required with --broker kafka");
      case rabbitmq -> require(queue, "--queue is required with --broker rabbitmq");
      case sqs -> {
        String url = require(queueUrl, "--queue-url is required with --broker sqs");
        checkUri(url, "--queue-url");
        yield url;
      }
    };
  }

  /** The dead-letter destination: the given one, or {@code <topic>.DLT} / {@code <queue>.dlq}. */
  /** A log-safe name of a destination. */
  String describe(String destination) {
    return broker() + ":" + destination;
  }

  /**
   * A source on {@code destination}.
   *
   * @param maxInFlight the most deliveries held unsettled
   * @param group the Kafka consumer group (ignored by the other brokers)
   * @param idHeader the header or attribute that carries the message id before the convention's, or
   *     null
   */
  MessageSource source(
      String destination, int maxInFlight, String group, @Nullable String idHeader) {
    return switch (broker()) {
      case kafka -> {
        KafkaSourceOptions.Builder b =
            KafkaSourceOptions.builder()
                .bootstrapServers(bootstrapServers)
                .groupId(group)
                .topics(destination)
                .maxInFlight(maxInFlight)
                .commitInterval(Duration.ofMillis(200));
        if (kafkaSessionTimeoutMs > 0) {
          b.consumerProperty("session.timeout.ms", kafkaSessionTimeoutMs)
              .consumerProperty("heartbeat.interval.ms", Math.max(100, kafkaSessionTimeoutMs / 6));
        }
        yield KafkaSource.create(idHeader == null ? b.build() : b.idHeader(idHeader).build());
      }
      case rabbitmq -> {
        RabbitSourceOptions.Builder b =
            RabbitSourceOptions.builder()
                .uri(amqpUri)
                .queue(destination)
                .declareQueue(true)
                .prefetch(Math.min(maxInFlight, RabbitSourceOptions.MAX_PREFETCH));
        yield RabbitSource.create(idHeader == null ? b.build() : b.idHeader(idHeader).build());
      }
      case sqs -> {
        SqsSourceOptions.Builder b =
            SqsSourceOptions.builder()
                .client(sqsClient())
                .queueUrl(destination)
                .maxInFlight(maxInFlight)
                .waitTime(Duration.ofSeconds(1));
        if (sqsVisibilitySeconds > 0) {
          b.visibilityTimeout(Duration.ofSeconds(sqsVisibilitySeconds));
        }
        yield SqsSource.create(idHeader == null ? b.build() : b.idHeader(idHeader).build());
      }
    };
  }

  /**
   * A dead-letter sink to {@code destination}. The pipeline checks it at start: a Kafka topic or
   * SQS queue must exist; a RabbitMQ queue is declared.
   */
  DeadLetterSink deadLetterSink(String destination) {
    return switch (broker()) {
      case kafka -> own(KafkaDeadLetter.create(bootstrapServers, destination));
      case rabbitmq ->
          own(
              RabbitDeadLetter.create(
                  RabbitDeadLetterOptions.builder()
                      .uri(amqpUri)
                      .queue(destination)
                      .declareQueue(true)
                      .build()));
      case sqs -> SqsDeadLetter.create(sqsClient(), destination);
    };
  }

  /** A publisher to {@code destination} that keeps each envelope's id and convention headers. */
  Function<Envelope, Mono<Void>> publisher(String destination) {
    MessagePublisher<?> p =
        switch (broker()) {
          case kafka -> own(KafkaPublisher.create(bootstrapServers));
          case rabbitmq -> {
            declareRabbitQueue(destination);
            yield own(RabbitPublisher.create(amqpUri));
          }
          case sqs -> SqsPublisher.create(sqsClient());
        };
    return e -> p.publish(destination, e).then();
  }

  private void declareRabbitQueue(String name) {
    CachingConnectionFactory cf = new CachingConnectionFactory(URI.create(amqpUri));
    try {
      new RabbitAdmin(cf).declareQueue(new Queue(name, true, false, false));
    } finally {
      cf.destroy();
    }
  }

  private SqsAsyncClient sqsClient() {
    if (sqsClient == null) {
      SqsAsyncClientBuilder b = SqsAsyncClient.builder().region(Region.of(region));
      AwsCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
      if (sqsEndpoint != null) {
        checkUri(sqsEndpoint, "--sqs-endpoint");
        b.endpointOverride(URI.create(sqsEndpoint));
        // A local endpoint (ElasticMQ) accepts any credentials; real ones are used when present.
        if (System.getenv("AWS_ACCESS_KEY_ID") == null) {
          credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"));
        }
      }
      sqsClient = b.credentialsProvider(credentials).build();
      resources.push(sqsClient);
    }
    return sqsClient;
  }

  private <T extends AutoCloseable> T own(T resource) {
    resources.push(resource);
    return resource;
  }

  void checkUri(String value, String option) {
    try {
      URI u = new URI(value);
      if (u.getScheme() == null || u.getHost() == null) {
        throw usage(
            option
                + " must be an absolute URL such as http://127.0.0.1:9324/000000000000/orders, but was '"
                + value
                + "'");
      }
    } catch (java.net.URISyntaxException e) {
      throw usage(option + " is not a URL: '" + value + "'");
    }
  }

  private String require(@Nullable String value, String message) {
    if (value == null || value.isBlank()) {
      throw usage(message);
    }
    return value;
  }

  ParameterException usage(String message) {
    if (mixee == null) {
      throw new IllegalStateException(message);
    }
    return new ParameterException(mixee.commandLine(), message);
  }

  @Override
  public void close() {
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) {
        System.err.println("warning: could not close a broker client: " + e);
      }
    }
  }
}
