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
  void anUnknownCrashPointIsAUsageError() {
    Cli.Run r =
        Cli.run("consume", "--broker", "kafka", "--topic", "t", "--crash-at", "after-lunch");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err())
        .contains("--crash-at must be before-handler, after-handler or after-record")
        .contains("after-lunch");
  }

  @Test
  void aCrashAfterBelowOneIsAUsageError() {
    Cli.Run r =
        Cli.run(
            "consume",
            "--broker",
            "kafka",
            "--topic",
            "t",
            "--crash-at",
            "after-record",
            "--crash-after",
            "0");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--crash-after must be at least 1, but was 0");
  }

  @Test
  void theTestHooksAreHiddenFromHelp() {
    Cli.Run r = Cli.run("consume", "--help");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out())
        .contains("--lease-seconds")
        .doesNotContain("--event-log")
        .doesNotContain("--crash-at")
        .doesNotContain("--redis-sentinel");
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
