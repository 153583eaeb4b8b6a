package dev.onceflow.examples.cli;

import static dev.onceflow.examples.cli.KafkaCliIT.concat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.examples.ElasticMq;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CLI against SQS (ElasticMQ started in this JVM, the real AWS SDK client) and Redis. */
class SqsCliIT {

  static ElasticMq sqs;

  @BeforeAll
  static void start() {
    Cli.requireRedis();
    sqs = ElasticMq.start();
  }

  @AfterAll
  static void stop() {
    if (sqs != null) {
      sqs.close();
    }
  }

  @Test
  void publishedDuplicatesAreAppliedOnce() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String queueUrl = sqs.createQueue("cli-orders-" + run);
    String dlqUrl = sqs.createQueue("cli-orders-" + run + "-dlq");
    String pipeline = "cli-sqs-" + run;
    String[] brokerArgs = {
      "--broker", "sqs", "--sqs-endpoint", sqs.endpoint(), "--queue-url", queueUrl
    };

    Cli.Run published =
        Cli.run(
            concat(
                new String[] {"publish"},
                brokerArgs,
                "--count",
                "300",
                "--duplicate-rate",
                "0.3",
                "--poison-rate",
                "0.02",
                "--id-prefix",
                run + "-"));
    assertThat(published.exitCode()).as(published.out() + published.err()).isZero();
    long records = published.number("published");
    long poison = published.number("poison");

    Cli.Run consumed =
        Cli.run(
            concat(
                new String[] {"consume"},
                brokerArgs,
                "--dead-letter",
                dlqUrl,
                "--redis",
                Cli.REDIS,
                "--pipeline",
                pipeline,
                "--max-messages",
                Long.toString(records),
                "--idle-exit-seconds",
                "20"));
    assertThat(consumed.exitCode()).as(consumed.out() + consumed.err()).isZero();
    assertThat(consumed.summary()).containsEntry("balanced", "true");
    assertThat(consumed.number("delivered")).isEqualTo(records);
    assertThat(consumed.number("processed")).isEqualTo(300 - poison);
    assertThat(consumed.number("deadLettered")).isEqualTo(poison);

    Map<String, String> effects = Cli.effects(pipeline);
    assertThat(effects).hasSize((int) (300 - poison));
    assertThat(effects.values()).containsOnly("1");

    Cli.Run listed =
        Cli.run(
            concat(
                new String[] {"dead-letters"},
                brokerArgs,
                "--dead-letter",
                dlqUrl,
                "--idle-exit-seconds",
                "3"));
    assertThat(listed.exitCode()).as(listed.out() + listed.err()).isZero();
    assertThat(listed.number("deadLetters")).isEqualTo(poison);
    Cli.deleteEffects(pipeline);
  }
}
