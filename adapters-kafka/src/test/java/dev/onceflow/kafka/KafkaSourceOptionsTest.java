package dev.onceflow.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;
import reactor.kafka.receiver.ReceiverOptions;

class KafkaSourceOptionsTest {

  private static KafkaSourceOptions.Builder valid() {
    return KafkaSourceOptions.builder()
        .bootstrapServers("localhost:9092")
        .groupId("orders")
        .topics("orders");
  }

  @Test
  void defaultsAreDocumentedConstantsAndMapToReceiverOptions() {
    KafkaSourceOptions o = valid().consumerProperty("max.poll.records", 50).build();

    assertThat(o.maxInFlight()).isEqualTo(KafkaSourceOptions.DEFAULT_MAX_IN_FLIGHT);
    assertThat(o.commitInterval()).isEqualTo(KafkaSourceOptions.DEFAULT_COMMIT_INTERVAL);
    assertThat(o.pollTimeout()).isEqualTo(Duration.ofMillis(50));
    ReceiverOptions<byte[], byte[]> r = o.toReceiverOptions();
    Map<String, String> props = new java.util.HashMap<>();
    r.consumerProperties().forEach((k, v) -> props.put(k, String.valueOf(v)));
    assertThat(props)
        .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false")
        .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "orders")
        .containsEntry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest")
        .containsEntry("max.poll.records", "50");
    assertThat(r.subscriptionTopics()).containsExactly("orders");
    assertThat(r.pollTimeout()).isEqualTo(Duration.ofMillis(50));
    assertThat(r.maxDelayRebalance()).isEqualTo(Duration.ZERO);
    assertThat(r.maxDeferredCommits()).isZero();
    assertThat(KafkaSource.create(o).name()).isEqualTo("kafka:orders");
    assertThat(KafkaSource.create(valid().pattern("orders\\..*").build()).name())
        .isEqualTo("kafka:/orders\\..*/");
  }

  @Test
  void settersValidateAtOnceAndNameTheBadValue() {
    assertThatThrownBy(() -> valid().maxInFlight(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("`maxInFlight` must be between 1 and 100000, but was 0");
    assertThatThrownBy(() -> valid().pollTimeout(Duration.ZERO))
        .hasMessage("`pollTimeout` must be positive, but was PT0S");
    assertThatThrownBy(() -> valid().commitInterval(Duration.ofSeconds(-1)))
        .hasMessage("`commitInterval` must not be negative, but was PT-1S");
    assertThatThrownBy(() -> valid().autoOffsetReset("beginning"))
        .hasMessageContaining("earliest, latest or none");
    assertThatThrownBy(() -> valid().groupId(" "))
        .hasMessage("`groupId` must not be blank, but was ' '");
    assertThatThrownBy(() -> valid().topics(List.of())).hasMessage("`topics` must not be empty");
    assertThatThrownBy(() -> valid().consumerProperty("enable.auto.commit", true))
        .hasMessageContaining("managed by onceflow");
    assertThatThrownBy(() -> valid().consumerProperty("value.deserializer", "x"))
        .hasMessageContaining("managed by onceflow");
  }

  @Test
  void buildRejectsMissingOrConflictingOptions() {
    assertThatThrownBy(() -> KafkaSourceOptions.builder().groupId("g").topics("t").build())
        .hasMessage("`bootstrapServers` is required: the brokers to consume from");
    assertThatThrownBy(() -> KafkaSourceOptions.builder().bootstrapServers("b").topics("t").build())
        .hasMessageContaining("`groupId` is required");
    assertThatThrownBy(
            () -> KafkaSourceOptions.builder().bootstrapServers("b").groupId("g").build())
        .hasMessage("`topics` or `pattern` is required");
    assertThatThrownBy(() -> valid().commitInterval(Duration.ZERO).commitBatchSize(0).build())
        .hasMessageContaining("both 0");
    assertThatThrownBy(() -> valid().maxInFlight(100).maxUncommitted(50).build())
        .hasMessage("`maxUncommitted` (50) must be at least `maxInFlight` (100)");
  }

  @Test
  void readyReceiverOptionsAreCheckedAndAutoCommitIsTurnedOff() {
    Map<String, Object> props =
        Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "b", ConsumerConfig.GROUP_ID_CONFIG, "g");
    ReceiverOptions<byte[], byte[]> base =
        ReceiverOptions.<byte[], byte[]>create(props).subscription(List.of("a", "b"));

    KafkaSource s = KafkaSource.create(base, 64);
    assertThat(s.name()).isEqualTo("kafka:a,b");

    assertThatThrownBy(
            () ->
                KafkaSource.create(
                    base.consumerProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true"), 64))
        .hasMessageContaining("`enable.auto.commit` must be false");
    assertThatThrownBy(() -> KafkaSource.create(base.maxDeferredCommits(100), 64))
        .hasMessageContaining("`maxDeferredCommits` must be 0, but was 100");
    assertThatThrownBy(() -> KafkaSource.create(ReceiverOptions.<byte[], byte[]>create(props), 64))
        .hasMessageContaining("need a subscription");
    assertThatThrownBy(() -> KafkaSource.create(base, 0))
        .hasMessage("`maxInFlight` must be between 1 and 100000, but was 0");
  }

  @Test
  void producerOptionsRefuseSettingsThatWouldBreakTheirGuarantees() {
    assertThatThrownBy(() -> KafkaDeadLetterOptions.builder().producerProperty("acks", "1"))
        .hasMessageContaining("managed by onceflow");
    assertThatThrownBy(
            () -> KafkaPublisherOptions.builder().producerProperty("enable.idempotence", false))
        .hasMessageContaining("managed by onceflow");
    assertThatThrownBy(() -> KafkaDeadLetterOptions.builder().bootstrapServers("b").build())
        .hasMessageContaining("`topic` is required");
    assertThatThrownBy(() -> KafkaPublisherOptions.builder().firstSequence(-1))
        .hasMessage("`firstSequence` must not be negative, but was -1");
  }

  @Test
  void everyOptionsClassHasDocumentedDefaultsAndMutateKeepsEveryValue() {
    KafkaSourceOptions source = valid().idHeader("X-Message-Id").build();
    assertThat(valid().build().idHeader()).isNull();
    assertThat(source.mutate().build().idHeader()).isEqualTo("X-Message-Id");
    assertThatThrownBy(() -> valid().idHeader(""))
        .hasMessage("`idHeader` must not be blank, but was ''");

    KafkaDeadLetterOptions dlt =
        KafkaDeadLetterOptions.builder().bootstrapServers("b").topic("orders.DLT").build();
    assertThat(dlt.createTopic()).isEqualTo(KafkaDeadLetterOptions.DEFAULT_CREATE_TOPIC).isFalse();
    assertThat(dlt.readyTimeout()).isEqualTo(KafkaDeadLetterOptions.DEFAULT_READY_TIMEOUT);
    assertThat(dlt.topicPartitions()).isNull();
    KafkaDeadLetterOptions changed =
        dlt.mutate().createTopic(true).topicPartitions(3).topicReplicationFactor(2).build();
    assertThat(changed.topic()).isEqualTo("orders.DLT");
    assertThat(changed.createTopic()).isTrue();
    assertThat(changed.topicPartitions()).isEqualTo(3);
    assertThat(changed.topicReplicationFactor()).isEqualTo((short) 2);
    assertThatThrownBy(() -> dlt.mutate().topicReplicationFactor(0))
        .hasMessage("`topicReplicationFactor` must be between 1 and 32767, but was 0");
    assertThatThrownBy(() -> dlt.mutate().readyTimeout(Duration.ZERO))
        .hasMessage("`readyTimeout` must be positive, but was PT0S");

    KafkaPublisherOptions pub = KafkaPublisherOptions.builder().bootstrapServers("b").build();
    assertThat(pub.recordKey()).isSameAs(KafkaPublisherOptions.DEFAULT_RECORD_KEY);
    assertThat(pub.firstSequence()).isEqualTo(KafkaPublisherOptions.DEFAULT_FIRST_SEQUENCE);
    assertThat(pub.mutate().producerId("p").build().producerId()).isEqualTo("p");
    assertThat(
            pub.recordKey()
                .apply(dev.onceflow.core.Envelope.builder().entityKey("customer-7").build()))
        .isEqualTo("customer-7");
  }
}
