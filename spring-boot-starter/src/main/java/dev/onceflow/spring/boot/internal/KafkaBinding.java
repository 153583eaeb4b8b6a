package dev.onceflow.spring.boot.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.kafka.KafkaDeadLetter;
import dev.onceflow.kafka.KafkaDeadLetterOptions;
import dev.onceflow.kafka.KafkaSource;
import dev.onceflow.kafka.KafkaSourceOptions;
import dev.onceflow.spring.boot.OnceflowProperties;
import java.util.LinkedHashMap;
import java.util.Map;

/** Kafka pipelines: a {@link KafkaSource} per pipeline and a {@link KafkaDeadLetter} topic. */
public final class KafkaBinding implements BrokerBinding {

  private final OnceflowProperties.Kafka kafka;

  public KafkaBinding(OnceflowProperties.Kafka kafka) {
    this.kafka = kafka;
  }

  @Override
  public OnceflowProperties.Broker broker() {
    return OnceflowProperties.Broker.KAFKA;
  }

  @Override
  public MessageSource source(String name, OnceflowProperties.Pipeline p) {
    String topic =
        Properties.require(Properties.pipeline(name, "destination"), p.getDestination(), "a topic");
    String group = p.getGroup() != null ? p.getGroup() : name;
    Map<String, Object> consumer = new LinkedHashMap<>(kafka.getProperties());
    consumer.putAll(p.getProperties());
    KafkaSourceOptions.Builder b = KafkaSourceOptions.builder();
    String servers = kafka.getBootstrapServers();
    Properties.check(
        "onceflow.kafka.bootstrap-servers",
        servers,
        "Set host:port of the Kafka brokers, comma-separated.",
        () -> b.bootstrapServers(servers));
    Properties.check(
        Properties.pipeline(name, "group"),
        group,
        "Set a consumer group name.",
        () -> b.groupId(group));
    Properties.check(
        Properties.pipeline(name, "destination"),
        topic,
        "Set a topic name.",
        () -> b.topics(topic));
    String idHeader = p.getIdHeader();
    if (idHeader != null) {
      Properties.check(
          Properties.pipeline(name, "id-header"),
          idHeader,
          "Set a header name.",
          () -> b.idHeader(idHeader));
    }
    b.maxInFlight(Math.max(p.getConcurrency(), KafkaSourceOptions.DEFAULT_MAX_IN_FLIGHT));
    KafkaSourceOptions options =
        Properties.check(
            Properties.pipeline(name, "properties"),
            consumer,
            "Check the Kafka consumer properties (onceflow.kafka.properties and the pipeline's).",
            () -> b.consumerProperties(consumer).build());
    return KafkaSource.create(options);
  }

  @Override
  public DeadLetterSink deadLetter(String name, OnceflowProperties.Pipeline p) {
    String topic = p.getDeadLetter() != null ? p.getDeadLetter() : p.getDestination() + ".DLT";
    KafkaDeadLetterOptions.Builder b =
        KafkaDeadLetterOptions.builder()
            .bootstrapServers(kafka.getBootstrapServers())
            .createTopic(p.isCreateDeadLetter());
    kafka.getProperties().forEach(b::producerProperty);
    return Properties.check(
        Properties.pipeline(name, "dead-letter"),
        topic,
        "Set a Kafka topic name.",
        () -> KafkaDeadLetter.create(b.topic(topic).build()));
  }
}
