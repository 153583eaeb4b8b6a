package dev.onceflow.kafka.embedded;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A real Kafka broker in KRaft mode (one combined broker + controller node) inside this JVM, on a
 * loopback port chosen by the OS. Starts in about 2 s.
 *
 * <p>Needs {@code org.apache.kafka:kafka-test-common-runtime} and {@code
 * org.apache.kafka:kafka-clients:test} (classifier {@code test}) on the classpath, both at the
 * version of {@code kafka-clients}; this module brings them, without JUnit and without log4j-core.
 * It is a broker for tests and demos, not a production setup (one node, replication factor 1, data
 * in a temporary directory removed on close).
 *
 * <p><b>Quiet.</b> A broker logs hundreds of lines at INFO while it starts, its whole configuration
 * among them. While a broker runs, its own loggers ({@code kafka.*}, {@code
 * org.apache.kafka.server}, {@code .controller}, {@code .raft}, ...) are lowered to WARN, and so
 * are the loggers it shares with clients (configuration dumps, version banners) while it starts and
 * stops; the storage formatter's lines on {@code System.out} are dropped. Loggers whose level the
 * program configured are left alone, and every level is restored when the last broker closes. This
 * works with Logback and {@code java.util.logging} behind SLF4J; with another backend, set {@code
 * kafka} and {@code org.apache.kafka} to WARN in its configuration.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
 *   kafka.createTopic("orders", 3);
 *   String bootstrap = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

  private final KafkaClusterTestKit cluster;
  private final Admin admin;

  private EmbeddedKafka(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
    this.admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
  }

  /**
   * Starts a broker. Internal topics get replication factor 1 and the group coordinator does not
   * wait before the first rebalance, so consumers start at once.
   *
   * @throws IllegalStateException when the broker does not start
   */
  public static EmbeddedKafka start() {
    BrokerLogging.Quieted shared = BrokerLogging.starting();
    KafkaClusterTestKit cluster = null;
    try {
      TestKitNodes nodes =
          new TestKitNodes.Builder()
              .setCombined(true)
              .setNumBrokerNodes(1)
              .setNumControllerNodes(1)
              .build();
      cluster =
          new KafkaClusterTestKit.Builder(nodes)
              .setConfigProp("offsets.topic.replication.factor", "1")
              .setConfigProp("offsets.topic.num.partitions", "1")
              .setConfigProp("transaction.state.log.replication.factor", "1")
              .setConfigProp("transaction.state.log.min.isr", "1")
              .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
              .setConfigProp("share.coordinator.state.topic.min.isr", "1")
              .setConfigProp("min.insync.replicas", "1")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("auto.create.topics.enable", "false")
              .build();
      formatSilently(cluster);
      cluster.startup();
      cluster.waitForReadyBrokers();
      return new EmbeddedKafka(cluster);
    } catch (Exception e) {
      BrokerLogging.stopped();
      if (cluster != null) {
        try {
          cluster.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException(
          "could not start the in-JVM Kafka broker (EmbeddedKafka.start(), KafkaClusterTestKit); "
              + "check that kafka-test-common-runtime, kafka_2.13 and kafka-clients:test are on the "
              + "classpath (they are compile dependencies of onceflow-examples) and that a loopback "
              + "port is free",
          e);
    } finally {
      shared.restore();
    }
  }

  /**
   * Formats the storage with {@code System.out} silenced: Kafka's formatter prints its bootstrap
   * metadata there. Other threads' output during those milliseconds is dropped too.
   */
  private static void formatSilently(KafkaClusterTestKit cluster) throws Exception {
    java.io.PrintStream original = System.out;
    System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      cluster.format();
    } finally {
      System.setOut(original);
    }
  }

  /** The {@code bootstrap.servers} value for clients, such as {@code localhost:41234}. */
  public String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** An admin client of this broker; owned by this object, do not close it. */
  public Admin admin() {
    return admin;
  }

  /**
   * Creates a topic with {@code partitions} partitions and waits until every partition has a
   * leader, so that producers do not race the broker's own metadata.
   */
  public EmbeddedKafka createTopic(String name, int partitions) {
    Objects.requireNonNull(name, "name");
    try {
      admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!ready(name, partitions)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("topic '" + name + "' has no leaders after 30 s");
        }
        Thread.sleep(20);
      }
      return this;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topic '" + name + "'", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not create topic '" + name + "'", e);
    }
  }

  private boolean ready(String topic, int partitions) {
    try {
      TopicDescription d =
          admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
      return d != null
          && d.partitions().size() == partitions
          && d.partitions().stream().allMatch(p -> p.leader() != null && !p.isr().isEmpty());
    } catch (Exception e) {
      return false; // not known yet
    }
  }

  /** The committed offsets of a consumer group, by partition. */
  public Map<TopicPartition, OffsetAndMetadata> committedOffsets(String groupId) {
    try {
      return admin
          .listConsumerGroupOffsets(groupId)
          .partitionsToOffsetAndMetadata()
          .get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not list offsets of group '" + groupId + "'", e);
    }
  }

  /** The end offsets (next offset to be written) of a topic's partitions. */
  public Map<TopicPartition, Long> endOffsets(String topic, int partitions) {
    try {
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        request.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, Long> out = new HashMap<>();
      admin
          .listOffsets(request)
          .all()
          .get(30, TimeUnit.SECONDS)
          .forEach((tp, info) -> out.put(tp, info.offset()));
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("could not list end offsets of '" + topic + "'", e);
    }
  }

  /** Stops the broker and deletes its data. Blocking. */
  @Override
  public void close() {
    BrokerLogging.Quieted shared = BrokerLogging.stopping();
    try {
      admin.close(Duration.ofSeconds(5));
      cluster.close();
    } catch (Exception e) {
      throw new IllegalStateException("could not stop the in-JVM Kafka broker", e);
    } finally {
      shared.restore();
      BrokerLogging.stopped();
    }
  }
}
