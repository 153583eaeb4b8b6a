package dev.onceflow.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.onceflow.examples.internal.StoreChoice;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the CLI in-process and reads its summary line; checks the servers the ITs need. */
final class Cli {

  static final String REDIS = "redis://127.0.0.1:6379";
  static final String AMQP = "amqp://guest:guest@127.0.0.1:5672";

  /** One CLI run: exit code, stdout, stderr. */
  record Run(int exitCode, String out, String err) {

    /** The key=value pairs of the {@code summary:} line. */
    Map<String, String> summary() {
      Map<String, String> m = new HashMap<>();
      for (String line : out.split("\n")) {
        if (line.startsWith("summary: ")) {
          Matcher kv = Pattern.compile("(\\w+)=(\\S+)").matcher(line);
          while (kv.find()) {
            m.put(kv.group(1), kv.group(2));
          }
        }
      }
      assertThat(m).as("summary line in:%n%s%n%s", out, err).isNotEmpty();
      return m;
    }

    long number(String key) {
      return Long.parseLong(summary().get(key));
    }
  }

  private Cli() {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = OnceflowCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  static void requireRedis() {
    dev.onceflow.test.LocalServers.requireRedis();
    if (!StoreChoice.answersPing(REDIS, Duration.ofSeconds(2))) {
      fail(
          "Redis does not answer at 127.0.0.1:6379: start it with `redis-server --daemonize yes`"
              + " (apt-get install -y redis-server), or run `bash .ci/run`, which starts it");
    }
  }

  static void requireRabbit() {
    dev.onceflow.test.LocalServers.requireRabbitMq();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5672), 2000);
    } catch (Exception e) {
      fail(
          "RabbitMQ does not answer at 127.0.0.1:5672: start it with `rabbitmq-server -detached`"
              + " (apt-get install -y rabbitmq-server), or run `bash .ci/run`, which starts it");
    }
  }

  /** HGETALL of the CLI's effects hash of {@code pipeline}. */
  static Map<String, String> effects(String pipeline) {
    RedisClient client = RedisClient.create(REDIS);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return c.sync().hgetall("onceflow:" + pipeline + ":effects");
    } finally {
      client.shutdown();
    }
  }

  static void deleteEffects(String pipeline) {
    RedisClient client = RedisClient.create(REDIS);
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().del("onceflow:" + pipeline + ":effects");
    } finally {
      client.shutdown();
    }
  }
}
