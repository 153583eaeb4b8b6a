package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.outcome.Ledger;
import org.junit.jupiter.api.Test;

/** Keeps the README's example honest: it runs, and its ledger is what the README says. */
class RabbitExampleIT {

  @Test
  void readmeExampleHandlesEveryOrderOnce() throws Exception {
    RabbitBroker.requireRunning();
    Ledger ledger = RabbitExample.run(RabbitBroker.URI, RabbitBroker.uniqueName("example"), 300);
    assertThat(ledger.processed()).isEqualTo(300);
    assertThat(ledger.duplicates()).isEqualTo(300);
    assertThat(ledger.deadLettered()).isZero();
    assertThat(ledger.balanced()).isTrue();
  }
}
