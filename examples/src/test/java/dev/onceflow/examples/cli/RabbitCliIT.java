package dev.onceflow.examples.cli;

import static dev.onceflow.examples.cli.KafkaCliIT.concat;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CLI against RabbitMQ on 127.0.0.1:5672 with the Redis store. */
class RabbitCliIT {

  @BeforeAll
  static void servers() {
    Cli.requireRedis();
    Cli.requireRabbit();
  }

  @Test
  void transactionalEffectsAreAppliedOncePerId() {
    check("transactional");
  }

  @Test
  void plainEffectsAreAppliedOncePerIdWithoutCrashes() {
    check("plain");
  }

  @Test
  void idHeaderDeduplicatesAProducerThatIsNotOnceflowByItsOwnId() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String queue = "cli-foreign-" + run;
    String pipeline = "cli-foreign-" + run;
    com.rabbitmq.client.ConnectionFactory cf = new com.rabbitmq.client.ConnectionFactory();
    cf.setUri(Cli.AMQP);
    try (com.rabbitmq.client.Connection c = cf.newConnection();
        com.rabbitmq.client.Channel ch = c.createChannel()) {
      ch.queueDeclare(queue, true, false, false, null);
      ch.confirmSelect();
      for (int i = 0; i < 40; i++) {
        // Each order twice, with its id only in X-Message-Id and a new message-id per send.
        ch.basicPublish(
            "",
            queue,
            new com.rabbitmq.client.AMQP.BasicProperties.Builder()
                .messageId(UUID.randomUUID().toString())
                .headers(Map.of("X-Message-Id", run + "-" + (i % 20)))
                .build(),
            "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      ch.waitForConfirmsOrDie(10_000);
    }
    Cli.Run consumed =
        Cli.run(
            "consume",
            "--broker",
            "rabbitmq",
            "--amqp-uri",
            Cli.AMQP,
            "--queue",
            queue,
            "--id-header",
            "X-Message-Id",
            "--redis",
            Cli.REDIS,
            "--pipeline",
            pipeline,
            "--max-messages",
            "40",
            "--idle-exit-seconds",
            "20");
    assertThat(consumed.exitCode()).as(consumed.out() + consumed.err()).isZero();
    assertThat(consumed.number("processed")).isEqualTo(20);
    assertThat(consumed.number("duplicates")).isEqualTo(20);
    assertThat(Cli.effects(pipeline)).hasSize(20).containsKey(run + "-7");
    Cli.deleteEffects(pipeline);
  }

  private void check(String effect) {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String queue = "cli-orders-" + run;
    String pipeline = "cli-rabbit-" + run;
    String[] brokerArgs = {"--broker", "rabbitmq", "--amqp-uri", Cli.AMQP, "--queue", queue};

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
                "--redis",
                Cli.REDIS,
                "--pipeline",
                pipeline,
                "--effect",
                effect,
                "--fail-rate",
                "0.05",
                "--max-messages",
                Long.toString(records),
                "--idle-exit-seconds",
                "20"));
    assertThat(consumed.exitCode()).as(consumed.out() + consumed.err()).isZero();
    assertThat(consumed.summary())
        .containsEntry("balanced", "true")
        .containsEntry("effect", effect);
    assertThat(consumed.number("delivered")).isEqualTo(records);
    assertThat(consumed.number("processed")).isEqualTo(300 - poison);
    assertThat(consumed.number("deadLettered")).isEqualTo(poison);

    Map<String, String> effects = Cli.effects(pipeline);
    assertThat(effects).hasSize((int) (300 - poison));
    assertThat(effects.values()).containsOnly("1");
    Cli.deleteEffects(pipeline);
  }
}
