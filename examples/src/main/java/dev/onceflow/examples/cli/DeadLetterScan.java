package dev.onceflow.examples.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/** How far `dead-letters` and `redrive` read a dead-letter destination. */
final class DeadLetterScan {

  @Option(
      names = "--max-messages",
      defaultValue = "1000",
      paramLabel = "N",
      description = "Read at most N dead letters (default: ${DEFAULT-VALUE}).")
  int maxMessages = 1000;

  @Option(
      names = "--idle-exit-seconds",
      defaultValue = "3",
      paramLabel = "S",
      description = "Stop after S seconds without a dead letter (default: ${DEFAULT-VALUE}).")
  long idleExitSeconds = 3;

  /** Checks the options; errors are usage errors of the command {@code broker} belongs to. */
  void validate(BrokerOptions broker) {
    if (maxMessages < 1 || maxMessages > 60_000) {
      throw broker.usage("--max-messages must be between 1 and 60000, but was " + maxMessages);
    }
    if (idleExitSeconds < 1) {
      throw broker.usage("--idle-exit-seconds must be positive, but was " + idleExitSeconds);
    }
  }

  Duration idleExit() {
    return Duration.ofSeconds(idleExitSeconds);
  }
}
