package dev.onceflow.chaos;

import dev.onceflow.chaos.History.EffectMode;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Redis paused past the command timeout (the stranded-lease check: recovery within half the lease),
 * then killed and restarted from its AOF; every broker.
 */
class RedisFaultChaosIT {

  static Stream<Arguments> runs() {
    return Brokers.selected().stream()
        .map(
            b ->
                Arguments.of(
                    b, b == Brokers.Kind.rabbitmq ? EffectMode.PLAIN : EffectMode.TRANSACTIONAL));
  }

  @ParameterizedTest(name = "{0}, {1} effects")
  @MethodSource("runs")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aRedisPauseStrandsNoKeyAndARestartLosesNothing(Brokers.Kind broker, EffectMode effect) {
    Scenarios.redisFaults(broker, effect, 0);
  }
}
