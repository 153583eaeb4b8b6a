package dev.onceflow.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CliArgumentsTest {

  @Test
  void noSubcommandIsAUsageError() {
    Cli.Run r = Cli.run();
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("a subcommand is required").contains("Usage:");
  }

  @Test
  void consumeWithoutBrokerIsAUsageError() {
    Cli.Run r = Cli.run("consume", "--topic", "orders");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("Missing required option: '--broker=BROKER'");
  }

  @Test
  void unknownBrokerIsAUsageError() {
    Cli.Run r = Cli.run("consume", "--broker", "mqtt", "--topic", "orders");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--broker").contains("mqtt");
  }

  @Test
  void kafkaWithoutTopicIsAUsageError() {
    Cli.Run r = Cli.run("consume", "--broker", "kafka");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--topic is required with --broker kafka");
  }

  @Test
  void failRateOutsideZeroToOneIsAUsageError() {
    Cli.Run r = Cli.run("consume", "--broker", "kafka", "--topic", "t", "--fail-rate", "1.5");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--fail-rate must be between 0 and 1, but was 1.5");
  }

  @Test
  void aBlankIdHeaderIsAUsageError() {
    Cli.Run r = Cli.run("consume", "--broker", "kafka", "--topic", "t", "--id-header", " ");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--id-header must not be blank");
  }

  @Test
  void sqsWithoutDeadLetterQueueIsAUsageError() {
    Cli.Run r =
        Cli.run("consume", "--broker", "sqs", "--queue-url", "http://127.0.0.1:9324/000/orders");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--dead-letter QUEUE_URL is required with --broker sqs");
  }

  @Test
  void publishCountMustBePositive() {
    Cli.Run r = Cli.run("publish", "--broker", "rabbitmq", "--queue", "q", "--count", "0");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--count must be positive, but was 0");
  }

  @Test
  void notANumberIsAUsageError() {
    Cli.Run r = Cli.run("publish", "--broker", "kafka", "--topic", "t", "--count", "many");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("'many' is not an int");
  }

  @Test
  void helpDescribesTheEffectKeyLayout() {
    Cli.Run r = Cli.run("--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).contains("HINCRBY <prefix>:<pipeline>:effects").contains("Cluster");
  }
}
