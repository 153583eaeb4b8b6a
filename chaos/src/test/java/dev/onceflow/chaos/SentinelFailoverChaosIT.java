package dev.onceflow.chaos;

import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sentinel failover under load, without and with WAIT 1 on completion: what is lost and doubled is
 * measured (Redis replicates asynchronously); acks after records, poison handling and recovery are
 * enforced. Short mode runs it on RabbitMQ only (-Dchaos.failoverBrokers=kafka,rabbitmq,sqs for
 * more).
 */
class SentinelFailoverChaosIT {

  static Stream<Arguments> runs() {
    return java.util.Arrays.stream(
            System.getProperty("chaos.failoverBrokers", "rabbitmq").split(","))
        .map(String::trim)
        .map(Brokers.Kind::valueOf)
        .filter(Brokers.selected()::contains)
        .flatMap(b -> Stream.of(Arguments.of(b, 0), Arguments.of(b, 1)));
  }

  @ParameterizedTest(name = "{0}, WAIT {1}")
  @MethodSource("runs")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void aFailoverIsMeasured(Brokers.Kind broker, int waitReplicas) {
    Scenarios.sentinelFailover(broker, waitReplicas, 0);
  }
}
