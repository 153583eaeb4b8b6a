package dev.onceflow.chaos;

import dev.onceflow.chaos.History.EffectMode;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Consumer processes on every broker: the three crash points, 1, 2 and 8 consumers at once,
 * handlers slower than the lease, a random SIGKILL (see {@link Scenarios#processes}).
 */
class ProcessChaosIT {

  static Stream<Arguments> runs() {
    return Brokers.selected().stream()
        .map(
            b ->
                Arguments.of(
                    b, b == Brokers.Kind.rabbitmq ? EffectMode.TRANSACTIONAL : EffectMode.PLAIN));
  }

  @ParameterizedTest(name = "{0}, {1} effects")
  @MethodSource("runs")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void crashPointsScaleSlowHandlersAndAKillKeepEveryRule(Brokers.Kind broker, EffectMode effect) {
    Scenarios.processes(broker, effect, 0);
  }
}
