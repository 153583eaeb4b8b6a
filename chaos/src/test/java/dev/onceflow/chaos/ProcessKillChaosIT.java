package dev.onceflow.chaos;

import dev.onceflow.chaos.History.EffectMode;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SIGKILL at each crash point and at a random moment, on every broker. */
class ProcessKillChaosIT {

  static Stream<Arguments> runs() {
    return Brokers.selected().stream()
        .map(
            b ->
                Arguments.of(
                    b, b == Brokers.Kind.kafka ? EffectMode.TRANSACTIONAL : EffectMode.PLAIN));
  }

  @ParameterizedTest(name = "{0}, {1} effects")
  @MethodSource("runs")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void crashPointsAndARandomKillLoseAndDoubleNothing(Brokers.Kind broker, EffectMode effect) {
    Scenarios.processKills(broker, effect, 0);
  }
}
