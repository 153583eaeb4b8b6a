package dev.onceflow.test;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The machine's Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672) for integration tests: when
 * one does not answer, it is started with the same command CI uses, and a test that still cannot
 * reach it fails with a message naming that command. Tests never skip a server silently.
 *
 * <p>Blocking: call it from a test thread (a {@code @BeforeAll}), never from a pipeline.
 */
public final class LocalServers {

  /** Starts the machine's Redis as CI does. */
  public static final List<String> REDIS_START =
      List.of(
          "redis-server",
          "--daemonize",
          "yes",
          "--bind",
          "127.0.0.1",
          "--port",
          "6379",
          "--save",
          "",
          "--appendonly",
          "no");

  /** Starts the machine's RabbitMQ as CI does (it returns before the node listens). */
  public static final List<String> RABBITMQ_START = List.of("rabbitmq-server", "-detached");

  private LocalServers() {}

  /** Makes sure Redis answers on 127.0.0.1:6379, starting it if needed. */
  public static void requireRedis() {
    require(
        "Redis",
        6379,
        REDIS_START,
        "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no",
        Duration.ofSeconds(30),
        "redis-server redis-tools");
  }

  /** Makes sure RabbitMQ listens on 127.0.0.1:5672, starting it if needed. */
  public static void requireRabbitMq() {
    require(
        "RabbitMQ",
        5672,
        RABBITMQ_START,
        "rabbitmq-server -detached",
        Duration.ofSeconds(120),
        "rabbitmq-server");
  }

  private static synchronized void require(
      String name, int port, List<String> start, String command, Duration wait, String packages) {
    if (listens(port)) {
      return;
    }
    String problem;
    if (!onPath(start.get(0))) {
      problem = start.get(0) + " is not installed (apt-get install -y " + packages + ")";
    } else {
      problem = run(start);
      long deadline = System.nanoTime() + wait.toNanos();
      while (problem == null && System.nanoTime() < deadline) {
        if (listens(port)) {
          return;
        }
        pause();
      }
      if (problem == null) {
        problem = "it was started but does not listen after " + wait;
      }
    }
    throw new AssertionError(
        name
            + " does not answer on 127.0.0.1:"
            + port
            + ": "
            + problem
            + ". Start it with: "
            + command
            + " (bash .ci/run installs and starts it)");
  }

  /** Runs a start command; null when it exited 0, else what went wrong. */
  private static String run(List<String> command) {
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return String.join(" ", command) + " did not return within 60 s";
      }
      return p.exitValue() == 0
          ? null
          : String.join(" ", command) + " exited with " + p.exitValue();
    } catch (IOException e) {
      return "cannot run " + command.get(0) + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static boolean listens(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, program).canExecute()) {
        return true;
      }
    }
    return new File("/usr/sbin", program).canExecute();
  }

  private static void pause() {
    try {
      TimeUnit.MILLISECONDS.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for a server", e);
    }
  }
}
