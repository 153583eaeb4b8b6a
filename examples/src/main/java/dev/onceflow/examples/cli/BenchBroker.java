package dev.onceflow.examples.cli;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.kafka.KafkaPublisher;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.KafkaSourceOptions;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.rabbitmq.RabbitPublisher;
import dev.onceflow.rabbitmq.RabbitSource;
import dev.onceflow.rabbitmq.RabbitSourceOptions;
import dev.onceflow.sqs.SqsPublisher;
import dev.onceflow.sqs.SqsSource;
import dev.onceflow.sqs.SqsSourceOptions;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.DeleteQueueRequest;

/**
 * The broker of a {@code bench} run: an in-memory queue, Kafka (an external bootstrap or a KRaft
 * broker in this JVM), RabbitMQ, or SQS (an endpoint or ElasticMQ in this JVM). Each run gets a
 * fresh destination (topic or queue) from {@link #create(String)}: a queue is deleted when its run
 * closes it, topics when this closes. Publishing goes through the adapters' publishers, consuming
 * through their sources.
 */
final class BenchBroker implements AutoCloseable {

  /** The brokers {@code bench} runs against. */
  enum Kind {
    memory,
    kafka,
    rabbitmq,
    sqs
  }

  static final String EMBEDDED = "embedded";

  /** Messages a backlog's publishing keeps unconfirmed at most (Kafka, RabbitMQ). */
  static final int WINDOW = 1024;

  /** One run's topic or queue. */
  interface Destination extends AutoCloseable {

    /** A source on it, holding at most {@code maxInFlight} deliveries unsettled. */
    MessageSource source(int maxInFlight);

    /** Publishes one message; completes when the broker accepted it. */
    Mono<Void> publish(Envelope message);

    /** Publishes every message, many at a time; completes when the broker accepted them all. */
    Mono<Void> publishAll(Flux<Envelope> messages);

    /** Deletes the topic or queue. */
    @Override
    void close();
  }

  private final Kind kind;
  private final String description;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private @Nullable String bootstrap;
  private @Nullable Admin kafkaAdmin;
  private final List<String> topics = new ArrayList<>();
  private @Nullable String amqpUri;
  private @Nullable CachingConnectionFactory rabbitAdminConnection;
  private @Nullable RabbitPublisher rabbitPublisher;
  private @Nullable SqsAsyncClient sqs;
  private @Nullable SqsPublisher sqsPublisher;
  private int partitions = 1;

  private BenchBroker(Kind kind, String description) {
    this.kind = kind;
    this.description = description;
  }

  static BenchBroker memory() {
    return new BenchBroker(Kind.memory, "in-memory queue (InMemorySource)");
  }

  static BenchBroker kafka(String bootstrapServers, int partitions) {
    BenchBroker b;
    if (EMBEDDED.equals(bootstrapServers)) {
      EmbeddedBrokers.Started started = EmbeddedBrokers.kafka();
      b = new BenchBroker(Kind.kafka, "kafka in this JVM (KRaft) at " + started.address());
      b.resources.push(started.handle());
      b.bootstrap = started.address();
    } else {
      b = new BenchBroker(Kind.kafka, "kafka at " + bootstrapServers);
      b.bootstrap = bootstrapServers;
    }
    b.partitions = partitions;
    b.kafkaAdmin =
        b.own(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrap)));
    return b;
  }

  static BenchBroker rabbit(String amqpUri) {
    BenchBroker b =
        new BenchBroker(
            Kind.rabbitmq, "rabbitmq at " + URI.create(amqpUri).getHost() + ":" + port(amqpUri));
    b.amqpUri = amqpUri;
    b.rabbitAdminConnection = new CachingConnectionFactory(URI.create(amqpUri));
    b.resources.push(b.rabbitAdminConnection::destroy);
    b.rabbitPublisher = b.own(RabbitPublisher.create(amqpUri));
    return b;
  }

  static BenchBroker sqs(String endpoint, String region) {
    String url = endpoint;
    BenchBroker b;
    AwsCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
    if (EMBEDDED.equals(endpoint)) {
      EmbeddedBrokers.Started started = EmbeddedBrokers.elasticMq();
      url = started.address();
      b = new BenchBroker(Kind.sqs, "sqs on ElasticMQ in this JVM at " + url);
      b.resources.push(started.handle());
    } else {
      b = new BenchBroker(Kind.sqs, "sqs at " + endpoint);
    }
    if (EMBEDDED.equals(endpoint) || System.getenv("AWS_ACCESS_KEY_ID") == null) {
      credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"));
    }
    b.sqs =
        b.own(
            SqsAsyncClient.builder()
                .region(Region.of(region))
                .endpointOverride(URI.create(url))
                .credentialsProvider(credentials)
                .build());
    b.sqsPublisher = SqsPublisher.create(b.sqs);
    return b;
  }

  Kind kind() {
    return kind;
  }

  String description() {
    return description;
  }

  /** A fresh topic or queue named {@code name}. Blocks while creating it. */
  Destination create(String name) {
    return switch (kind) {
      case memory -> memoryQueue(name);
      case kafka -> kafkaTopic(name);
      case rabbitmq -> rabbitQueue(name);
      case sqs -> sqsQueue(name);
    };
  }

  private Destination memoryQueue(String name) {
    InMemorySource queue = InMemorySource.create(name);
    return new Destination() {
      @Override
      public MessageSource source(int maxInFlight) {
        return queue;
      }

      @Override
      public Mono<Void> publish(Envelope message) {
        queue.publish(message);
        return Mono.empty();
      }

      @Override
      public Mono<Void> publishAll(Flux<Envelope> messages) {
        return messages.doOnNext(queue::publish).then();
      }

      @Override
      public void close() {}
    };
  }

  /**
   * Creates the topics of every run up front (Kafka; the other brokers create their queue per run)
   * and waits until each partition has a leader. In trials, a topic created right after a run of
   * 200,000 messages sometimes never took the next run's records (the producer's batches expired
   * after 120 s, the broker idle); topics created before any load did.
   */
  void prepare(List<String> names) {
    if (kind != Kind.kafka) {
      return;
    }
    Admin admin = require(kafkaAdmin);
    List<NewTopic> fresh = new ArrayList<>();
    for (String name : names) {
      fresh.add(new NewTopic(name, partitions, (short) 1));
    }
    get(admin.createTopics(fresh).all());
    topics.addAll(names);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      boolean led =
          get(admin.describeTopics(names).allTopicNames()).values().stream()
              .flatMap(t -> t.partitions().stream())
              .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
      if (led || System.nanoTime() > deadline) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private Destination kafkaTopic(String name) {
    Admin admin = require(kafkaAdmin);
    String servers = require(bootstrap);
    if (!topics.contains(name)) {
      prepare(List.of(name));
    }
    // A producer per run: an idempotent producer that outlives the topics it wrote to stalled on
    // the next run's topic in a trial (batches expired, then out-of-order sequence numbers).
    KafkaPublisher publisher = KafkaPublisher.create(servers);
    return new Destination() {
      @Override
      public MessageSource source(int maxInFlight) {
        return KafkaSource.create(
            KafkaSourceOptions.builder()
                .bootstrapServers(servers)
                .groupId(name)
                .topics(name)
                .maxInFlight(maxInFlight)
                .maxUncommitted(Math.max(maxInFlight, KafkaSourceOptions.DEFAULT_MAX_UNCOMMITTED))
                .commitInterval(Duration.ofMillis(200))
                .build());
      }

      @Override
      public Mono<Void> publish(Envelope message) {
        return publisher.publish(name, message).then();
      }

      @Override
      public Mono<Void> publishAll(Flux<Envelope> messages) {
        return windowed(messages, m -> publisher.publish(name, m));
      }

      /** Closes the run's producer; the topic is deleted with the broker (no deletion mid-run). */
      @Override
      public void close() {
        publisher.close();
      }
    };
  }

  private Destination rabbitQueue(String name) {
    RabbitAdmin admin = new RabbitAdmin(require(rabbitAdminConnection));
    admin.declareQueue(new Queue(name, true, false, false));
    RabbitPublisher publisher = require(rabbitPublisher);
    String uri = require(amqpUri);
    return new Destination() {
      @Override
      public MessageSource source(int maxInFlight) {
        return RabbitSource.create(
            RabbitSourceOptions.builder()
                .uri(uri)
                .queue(name)
                .prefetch(Math.min(maxInFlight, RabbitSourceOptions.MAX_PREFETCH))
                .build());
      }

      @Override
      public Mono<Void> publish(Envelope message) {
        return publisher.publish(name, message).then();
      }

      @Override
      public Mono<Void> publishAll(Flux<Envelope> messages) {
        return windowed(messages, m -> publisher.publish(name, m));
      }

      @Override
      public void close() {
        try {
          admin.deleteQueue(name);
        } catch (RuntimeException e) {
          System.err.println("warning: could not delete queue " + name + ": " + e);
        }
      }
    };
  }

  private Destination sqsQueue(String name) {
    SqsAsyncClient client = require(sqs);
    SqsPublisher publisher = require(sqsPublisher);
    String url =
        client.createQueue(CreateQueueRequest.builder().queueName(name).build()).join().queueUrl();
    return new Destination() {
      @Override
      public MessageSource source(int maxInFlight) {
        return SqsSource.create(
            SqsSourceOptions.builder()
                .client(client)
                .queueUrl(url)
                .maxInFlight(maxInFlight)
                .waitTime(Duration.ofSeconds(1))
                .build());
      }

      @Override
      public Mono<Void> publish(Envelope message) {
        return publisher.publish(url, message).then();
      }

      @Override
      public Mono<Void> publishAll(Flux<Envelope> messages) {
        return messages.buffer(10).flatMap(batch -> publisher.publishAll(url, batch), 64).then();
      }

      @Override
      public void close() {
        try {
          client.deleteQueue(DeleteQueueRequest.builder().queueUrl(url).build()).join();
        } catch (RuntimeException e) {
          System.err.println("warning: could not delete queue " + url + ": " + e);
        }
      }
    };
  }

  /**
   * Publishes every message with at most {@link #WINDOW} unconfirmed, from the subscribing thread.
   * Not {@code flatMap(publish, 1024)}: its drain loop, run on the Kafka producer's thread for
   * every confirmation, took a fifth of the CPU samples of a profiled run while publishing.
   */
  private static Mono<Void> windowed(Flux<Envelope> messages, Function<Envelope, Mono<?>> publish) {
    return Mono.fromRunnable(
        () -> {
          Semaphore permits = new Semaphore(WINDOW);
          AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
          try {
            for (Envelope m : messages.toIterable()) {
              permits.acquire();
              if (failure.get() != null) {
                break;
              }
              publish
                  .apply(m)
                  .subscribe(
                      v -> {},
                      e -> {
                        failure.compareAndSet(null, e);
                        permits.release();
                      },
                      permits::release);
            }
            permits.acquire(WINDOW);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
          }
          Throwable f = failure.get();
          if (f != null) {
            throw new IllegalStateException("publishing failed: " + f, f);
          }
        });
  }

  private static <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("Kafka admin operation failed: " + e, e);
    }
  }

  private static int port(String uri) {
    int p = URI.create(uri).getPort();
    return p > 0 ? p : 5672;
  }

  private static <T> T require(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("broker not set up");
    }
    return value;
  }

  private <T extends AutoCloseable> T own(T resource) {
    resources.push(resource);
    return resource;
  }

  @Override
  public void close() {
    if (kafkaAdmin != null && !topics.isEmpty()) {
      try {
        get(kafkaAdmin.deleteTopics(topics).all());
      } catch (RuntimeException e) {
        System.err.println("warning: could not delete topics " + topics + ": " + e);
      }
    }
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) {
        System.err.println("warning: could not close a broker resource: " + e);
      }
    }
  }
}
