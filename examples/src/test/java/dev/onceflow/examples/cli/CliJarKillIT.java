package dev.onceflow.examples.cli;

import static dev.onceflow.examples.cli.KafkaCliIT.concat;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the consumer jar mid-stream, then a second consumer finishes: with transactional
 * effects no message's effect is counted twice (RabbitMQ and Redis).
 */
class CliJarKillIT {

  @Test
  void killMinusNineMidStreamCountsNoMessageTwice() throws Exception {
    Cli.requireRedis();
    Cli.requireRabbit();
    String run = UUID.randomUUID().toString().substring(0, 8);
    String queue = "cli-kill-" + run;
    String pipeline = "cli-kill-" + run;
    String[] brokerArgs = {"--broker", "rabbitmq", "--amqp-uri", Cli.AMQP, "--queue", queue};
    Cli.Run published =
        Cli.run(
            concat(
                new String[] {"publish"},
                brokerArgs,
                "--count",
                "2000",
                "--duplicate-rate",
                "0.2",
                "--id-prefix",
                run + "-"));
    assertThat(published.exitCode()).as(published.out() + published.err()).isZero();

    Process p =
        new ProcessBuilder(
                concat(
                    new String[] {
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "-jar",
                      cliJar().toString(),
                      "consume"
                    },
                    brokerArgs,
                    "--redis",
                    Cli.REDIS,
                    "--pipeline",
                    pipeline,
                    "--handler-delay-ms",
                    "20",
                    "--lease-seconds",
                    "2"))
            .redirectErrorStream(true)
            .redirectInput(new File("/dev/null"))
            .start();
    Pattern processed = Pattern.compile("processed=(\\d+)");
    long before = 0;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        Matcher m = processed.matcher(line);
        if (line.startsWith("progress: ") && m.find() && Long.parseLong(m.group(1)) >= 300) {
          before = Long.parseLong(m.group(1));
          p.destroyForcibly(); // SIGKILL: no graceful stop, work in flight
          break;
        }
      }
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(before).as("the first consumer got going before it was killed").isPositive();
    assertThat(Cli.effects(pipeline).size()).isLessThan(2000);

    Cli.Run finished =
        Cli.run(
            concat(
                new String[] {"consume"},
                brokerArgs,
                "--redis",
                Cli.REDIS,
                "--pipeline",
                pipeline,
                "--lease-seconds",
                "2",
                "--idle-exit-seconds",
                "8"));
    assertThat(finished.exitCode()).as(finished.out() + finished.err()).isZero();
    Map<String, String> effects = Cli.effects(pipeline);
    assertThat(effects).hasSize(2000);
    assertThat(effects.values()).containsOnly("1");
    Cli.deleteEffects(pipeline);
  }

  static Path cliJar() throws Exception {
    try (Stream<Path> files = Files.list(Path.of("target"))) {
      return files
          .filter(f -> f.getFileName().toString().endsWith("-cli.jar"))
          .findFirst()
          .orElseThrow(
              () -> new AssertionError("no target/*-cli.jar: run mvn -pl examples verify"));
    }
  }
}
