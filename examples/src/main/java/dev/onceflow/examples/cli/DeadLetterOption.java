package dev.onceflow.examples.cli;

import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** The {@code --dead-letter} option of the commands that consume or read dead letters. */
final class DeadLetterOption {

  @Option(
      names = "--dead-letter",
      paramLabel = "TARGET",
      description =
          "Dead-letter destination, checked at start: Kafka topic (default <topic>.DLT; must"
              + " exist), RabbitMQ queue (default <queue>.dlq; declared), SQS queue URL (required;"
              + " must exist).")
  @Nullable String given;

  /** The dead-letter destination: the one given, or the broker's default beside the source. */
  String destination(BrokerOptions broker) {
    String target = given;
    if (target != null) {
      if (target.isBlank()) {
        throw broker.usage("--dead-letter must not be blank");
      }
      if (broker.broker() == BrokerOptions.Broker.sqs) {
        broker.checkUri(target, "--dead-letter");
      }
      return target;
    }
    return switch (broker.broker()) {
      case kafka -> broker.destination() + ".DLT";
      case rabbitmq -> broker.destination() + ".dlq";
      case sqs -> throw broker.usage("--dead-letter QUEUE_URL is required with --broker sqs");
    };
  }
}
