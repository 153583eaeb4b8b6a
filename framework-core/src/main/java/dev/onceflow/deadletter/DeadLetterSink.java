package dev.onceflow.deadletter;

import reactor.core.publisher.Mono;

/**
 * Where dead letters go: a Kafka topic, a RabbitMQ exchange, an SQS queue.
 *
 * <p>The returned {@code Mono} completes only once the broker has durably accepted the dead letter
 * (Kafka: acks=all; RabbitMQ: publisher confirm; SQS: SendMessage answered). It errors otherwise,
 * and the pipeline then releases the lease and nacks the original: a dead letter is never the
 * reason a message is lost. Dead letters are at-least-once: the same message may be dead-lettered
 * twice.
 */
@FunctionalInterface
public interface DeadLetterSink {

  Mono<Void> publish(DeadLetter deadLetter);

  /**
   * Checks that the destination can take dead letters (it exists, or was created when the sink is
   * configured to create it), so that a missing destination fails the pipeline at start with its
   * name instead of stalling every poison message. The pipeline subscribes to it once when a run
   * starts and fails the run with its error. Completes at once by default.
   */
  default Mono<Void> ready() {
    return Mono.empty();
  }
}
