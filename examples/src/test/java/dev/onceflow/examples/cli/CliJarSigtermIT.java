package dev.onceflow.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The runnable jar: SIGTERM stops the consumer gracefully and prints the summary. */
class CliJarSigtermIT {

  @Test
  void sigtermStopsGracefullyWithASummary() throws Exception {
    Cli.requireRabbit();
    Path jar;
    try (Stream<Path> files = Files.list(Path.of("target"))) {
      jar =
          files
              .filter(p -> p.getFileName().toString().endsWith("-cli.jar"))
              .findFirst()
              .orElseThrow(
                  () -> new AssertionError("no target/*-cli.jar: run mvn -pl examples verify"));
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String queue = "cli-sigterm-" + UUID.randomUUID().toString().substring(0, 8);
    Process p =
        new ProcessBuilder(
                java,
                "-jar",
                jar.toString(),
                "consume",
                "--broker",
                "rabbitmq",
                "--queue",
                queue,
                "--amqp-uri",
                Cli.AMQP,
                "--pipeline",
                queue)
            .redirectErrorStream(true)
            .redirectInput(new File("/dev/null"))
            .start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        if (line.startsWith("consuming ")) {
          Thread.sleep(1000); // let the consumer subscribe before the signal
          // SIGTERM (Process.destroy() would also close the streams this test reads)
          assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor())
              .isZero();
        }
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(lines).anyMatch(l -> l.startsWith("SIGTERM: stopping gracefully"));
    assertThat(lines).anyMatch(l -> l.startsWith("summary: ") && l.contains("balanced=true"));
  }
}
