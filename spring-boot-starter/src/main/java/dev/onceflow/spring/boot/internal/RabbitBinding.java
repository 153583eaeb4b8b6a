package dev.onceflow.spring.boot.internal;

import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.rabbitmq.RabbitDeadLetter;
import dev.onceflow.rabbitmq.RabbitDeadLetterOptions;
import dev.onceflow.rabbitmq.RabbitSource;
import dev.onceflow.rabbitmq.RabbitSourceOptions;
import dev.onceflow.spring.boot.OnceflowProperties;

/** RabbitMQ pipelines: a {@link RabbitSource} per queue and a dead-letter queue. */
public final class RabbitBinding implements BrokerBinding {

  private final OnceflowProperties.Rabbitmq rabbit;

  public RabbitBinding(OnceflowProperties.Rabbitmq rabbit) {
    this.rabbit = rabbit;
  }

  @Override
  public OnceflowProperties.Broker broker() {
    return OnceflowProperties.Broker.RABBITMQ;
  }

  @Override
  public MessageSource source(String name, OnceflowProperties.Pipeline p) {
    String queue =
        Properties.require(Properties.pipeline(name, "destination"), p.getDestination(), "a queue");
    int prefetch = rabbit.getPrefetch() != null ? rabbit.getPrefetch() : p.getConcurrency();
    RabbitSourceOptions.Builder b = RabbitSourceOptions.builder();
    Properties.check(
        "onceflow.rabbitmq.uri",
        Properties.redacted(rabbit.getUri()),
        "Set an AMQP URI such as amqp://user:pass@host:5672/vhost.",
        () -> b.uri(rabbit.getUri()));
    Properties.check(
        Properties.pipeline(name, "destination"), queue, "Set a queue name.", () -> b.queue(queue));
    Properties.check(
        rabbit.getPrefetch() != null
            ? "onceflow.rabbitmq.prefetch"
            : Properties.pipeline(name, "concurrency"),
        prefetch,
        "Set a prefetch between 1 and 65535.",
        () -> b.prefetch(prefetch));
    String idHeader = p.getIdHeader();
    if (idHeader != null) {
      Properties.check(
          Properties.pipeline(name, "id-header"),
          idHeader,
          "Set a header name.",
          () -> b.idHeader(idHeader));
    }
    return RabbitSource.create(b.declareQueue(rabbit.isDeclareQueues()).build());
  }

  @Override
  public DeadLetterSink deadLetter(String name, OnceflowProperties.Pipeline p) {
    String queue = p.getDeadLetter() != null ? p.getDeadLetter() : p.getDestination() + ".dlq";
    return Properties.check(
        Properties.pipeline(name, "dead-letter"),
        queue,
        "Set a RabbitMQ queue name.",
        () ->
            RabbitDeadLetter.create(
                RabbitDeadLetterOptions.builder()
                    .uri(rabbit.getUri())
                    .queue(queue)
                    .declareQueue(p.isCreateDeadLetter() || rabbit.isDeclareQueues())
                    .build()));
  }
}
