package dev.onceflow.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.kafka.embedded.EmbeddedKafka;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CLI against a real Kafka broker started in this JVM, with the Redis store. */
class KafkaCliIT {

  static EmbeddedKafka kafka;

  @BeforeAll
  static void start() {
    Cli.requireRedis();
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void publishedDuplicatesAreAppliedOnceAndPoisonIsDeadLetteredThenRedriven() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String topic = "cli-orders-" + run;
    String pipeline = "cli-kafka-" + run;
    kafka.createTopic(topic, 3).createTopic(topic + ".DLT", 1);
    String[] brokerArgs = {
      "--broker", "kafka", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", topic
    };

    Cli.Run published =
        Cli.run(
            concat(
                new String[] {"publish"},
                brokerArgs,
                "--count",
                "400",
                "--duplicate-rate",
                "0.3",
                "--poison-rate",
                "0.02",
                "--id-prefix",
                run + "-"));
    assertThat(published.exitCode()).as(published.out() + published.err()).isZero();
    long records = published.number("published");
    long poison = published.number("poison");
    assertThat(published.number("duplicates")).isPositive();
    assertThat(poison).isPositive();

    Cli.Run consumed =
        Cli.run(
            concat(
                new String[] {"consume"},
                brokerArgs,
                "--redis",
                Cli.REDIS,
                "--pipeline",
                pipeline,
                "--max-messages",
                Long.toString(records),
                "--idle-exit-seconds",
                "20"));
    assertThat(consumed.exitCode()).as(consumed.out() + consumed.err()).isZero();
    Map<String, String> s = consumed.summary();
    assertThat(s).containsEntry("balanced", "true").containsEntry("inFlight", "0");
    assertThat(consumed.number("delivered")).isEqualTo(records);
    assertThat(consumed.number("processed")).isEqualTo(400 - poison);
    assertThat(consumed.number("duplicates")).isEqualTo(published.number("duplicates"));
    assertThat(consumed.number("deadLettered")).isEqualTo(poison);

    Map<String, String> effects = Cli.effects(pipeline);
    assertThat(effects).hasSize((int) (400 - poison));
    assertThat(effects.values()).containsOnly("1");

    Cli.Run listed =
        Cli.run(concat(new String[] {"dead-letters"}, brokerArgs, "--idle-exit-seconds", "3"));
    assertThat(listed.exitCode()).as(listed.out() + listed.err()).isZero();
    assertThat(listed.number("deadLetters")).isEqualTo(poison);
    assertThat(listed.out()).contains("reason=NON_RETRYABLE");

    Cli.Run redriven =
        Cli.run(
            concat(
                new String[] {"redrive"},
                brokerArgs,
                "--redis",
                Cli.REDIS,
                "--pipeline",
                pipeline,
                "--idle-exit-seconds",
                "3"));
    assertThat(redriven.exitCode()).as(redriven.out() + redriven.err()).isZero();
    // DEAD_LETTERED keys yield to their redriven copies: none is skipped as processed.
    assertThat(redriven.number("redriven")).isEqualTo(poison);
    assertThat(redriven.number("skippedProcessed")).isZero();

    // The redriven copies are taken again (not swallowed as duplicates) and still fail.
    Cli.Run again =
        Cli.run(
            concat(
                new String[] {"consume"},
                brokerArgs,
                "--redis",
                Cli.REDIS,
                "--pipeline",
                pipeline,
                "--max-messages",
                Long.toString(poison),
                "--idle-exit-seconds",
                "20"));
    assertThat(again.exitCode()).as(again.out() + again.err()).isZero();
    assertThat(again.number("deadLettered")).isEqualTo(poison);
    assertThat(again.number("duplicates")).isZero();
    assertThat(Cli.effects(pipeline)).hasSize((int) (400 - poison));
    Cli.deleteEffects(pipeline);
  }

  static String[] concat(String[] first, String[] second, String... rest) {
    String[] all = new String[first.length + second.length + rest.length];
    System.arraycopy(first, 0, all, 0, first.length);
    System.arraycopy(second, 0, all, first.length, second.length);
    System.arraycopy(rest, 0, all, first.length + second.length, rest.length);
    return all;
  }
}
