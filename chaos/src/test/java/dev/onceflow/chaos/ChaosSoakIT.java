package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.chaos.History.EffectMode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Long mode: {@code mvn -B -o verify -pl chaos -Dit.test=ChaosSoakIT -Dchaos.mode=long
 * -Dchaos.minutes=30 -Dchaos.forkTimeout=14400}. Runs every scenario on every broker with long-mode
 * counts, round after round with new seeds, until the minutes are up (a round that started goes on
 * to its end); each run's figures go to target/chaos/results.md. Fails at the end if any run broke
 * a rule, after all rounds ran. Only in long mode; short mode runs the other ITs.
 */
@EnabledIfSystemProperty(named = "chaos.mode", matches = "long")
class ChaosSoakIT {

  @Test
  @Timeout(value = 6, unit = TimeUnit.HOURS)
  void everyScenarioOnEveryBrokerRoundAfterRound() {
    long end = System.nanoTime() + Mode.minutes().toNanos();
    List<String> failures = new ArrayList<>();
    int round = 0;
    int runs = 0;
    while (System.nanoTime() < end) {
      round++;
      for (Brokers.Kind broker : Brokers.selected()) {
        EffectMode a = round % 2 == 0 ? EffectMode.TRANSACTIONAL : EffectMode.PLAIN;
        EffectMode b = a == EffectMode.PLAIN ? EffectMode.TRANSACTIONAL : EffectMode.PLAIN;
        int r = round;
        runs += attempt(failures, "processes " + broker, () -> Scenarios.processes(broker, a, r));
        runs += attempt(failures, "redis " + broker, () -> Scenarios.redisFaults(broker, b, r));
        runs +=
            attempt(
                failures, "failover " + broker, () -> Scenarios.sentinelFailover(broker, r % 2, r));
        if (System.nanoTime() > end) {
          break;
        }
      }
    }
    System.out.printf("soak: %d rounds, %d runs, %d failed%n", round, runs, failures.size());
    assertThat(failures).as("failed runs of the soak").isEmpty();
  }

  private static int attempt(List<String> failures, String what, Runnable run) {
    try {
      run.run();
    } catch (AssertionError | RuntimeException e) {
      failures.add(what + ": " + e.getMessage());
      System.out.println("soak: " + what + " FAILED: " + e.getMessage());
    }
    return 1;
  }
}
