package dev.onceflow.redis;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real Redis servers for the tests: the shared one on 6379 and servers a test owns. */
final class RedisTestSupport {

  static final String SHARED_URI = "redis://127.0.0.1:6379";

  static final String START_SHARED =
      "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no";

  private RedisTestSupport() {}

  /** Fails (never skips) when the shared Redis does not answer, naming the command to start it. */
  static void requireSharedRedis() {
    dev.onceflow.test.LocalServers.requireRedis();
    if (!pings(6379)) {
      fail(
          "Redis is not running on 127.0.0.1:6379. Start it with: "
              + START_SHARED
              + " (install with: apt-get install -y redis-server redis-tools)");
    }
  }

  /** True when a plain-text Redis on the port answers PING. */
  static boolean pings(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      s.setSoTimeout(1000);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[7];
      int n = in.read(buf);
      return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  static boolean listens(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void awaitTrue(String what, Duration max, java.util.function.BooleanSupplier check) {
    Instant end = Instant.now().plus(max);
    while (!check.getAsBoolean()) {
      if (Instant.now().isAfter(end)) {
        fail("timed out after " + max + " waiting for " + what);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted waiting for " + what);
      }
    }
  }

  /** Runs a command, returns its output; fails the test when it exits non-zero. */
  static String run(List<String> command, Duration timeout) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        fail("timed out: " + String.join(" ", command));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        fail(String.join(" ", command) + " exited with " + p.exitValue() + ": " + out);
      }
      return out;
    } catch (IOException e) {
      return fail("cannot run " + String.join(" ", command) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted: " + String.join(" ", command));
    }
  }

  /**
   * Waits until a just-created Cluster is ready for clients: every node says {@code
   * cluster_state:ok}, knows all {@code masters} nodes and sees all 16384 slots assigned, and
   * {@code redis-cli --cluster check} finds that the nodes agree about the slots (right after
   * {@code --cluster create} a node can say "ok" while another still has the old configuration, and
   * a client that reads its topology then sends commands into the void).
   */
  static void awaitClusterReady(List<OwnedRedis> nodes, int masters) {
    for (OwnedRedis node : nodes) {
      awaitTrue(
          "cluster_state:ok on port " + node.port,
          Duration.ofSeconds(30),
          () -> {
            String info =
                run(
                    List.of("redis-cli", "-p", Integer.toString(node.port), "cluster", "info"),
                    Duration.ofSeconds(5));
            return info.contains("cluster_state:ok")
                && info.contains("cluster_slots_ok:16384")
                && info.contains("cluster_known_nodes:" + masters);
          });
    }
    awaitTrue(
        "the nodes of the Cluster to agree about the slots",
        Duration.ofSeconds(30),
        () -> {
          String check =
              runAllowingFailure(
                  List.of("redis-cli", "--cluster", "check", "127.0.0.1:" + nodes.get(0).port),
                  Duration.ofSeconds(10));
          return check.contains("All nodes agree about slots configuration")
              && check.contains("All 16384 slots covered")
              && !check.contains("[ERR]")
              && !check.contains("[WARNING]");
        });
  }

  /** Runs a command and returns its output, whatever its exit status. */
  static String runAllowingFailure(List<String> command, Duration timeout) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return "";
      }
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return fail("cannot run " + String.join(" ", command) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted: " + String.join(" ", command));
    }
  }

  /** Deletes every key under a prefix (SCAN + UNLINK), never the whole database. */
  static void unlinkAll(
      io.lettuce.core.api.sync.RedisCommands<String, String> sync, String prefix) {
    List<String> batch = new ArrayList<>();
    io.lettuce.core.ScanIterator<String> it =
        io.lettuce.core.ScanIterator.scan(
            sync, io.lettuce.core.ScanArgs.Builder.matches(prefix + "*").limit(1000));
    while (it.hasNext()) {
      batch.add(it.next());
      if (batch.size() == 1000) {
        sync.unlink(batch.toArray(String[]::new));
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      sync.unlink(batch.toArray(String[]::new));
    }
  }

  /** Deletes the store's function library (only this version's) from a server, if loaded. */
  static void deleteLibrary(io.lettuce.core.api.sync.RedisCommands<String, String> r) {
    try {
      r.dispatch(
          io.lettuce.core.protocol.CommandType.FUNCTION,
          new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8),
          new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8)
              .add("DELETE")
              .add(dev.onceflow.redis.internal.ServerCode.LIBRARY_NAME));
    } catch (io.lettuce.core.RedisCommandExecutionException e) {
      if (!String.valueOf(e.getMessage()).contains("not found")) {
        throw e;
      }
    }
  }

  /** A redis-server child process this test owns; stopped by its own pid. */
  static final class OwnedRedis implements AutoCloseable {
    final int port;
    final Path dir;
    private final List<String> extra;
    private Process process;

    OwnedRedis(Path dir, int port, List<String> extra) {
      this.dir = dir;
      this.port = port;
      this.extra = List.copyOf(extra);
    }

    /** Starts the server and waits until {@code ready} holds. */
    OwnedRedis start(boolean plainText) {
      List<String> cmd = new ArrayList<>();
      cmd.add("redis-server");
      cmd.add("--bind");
      cmd.add("127.0.0.1");
      cmd.add("--port");
      cmd.add(plainText ? Integer.toString(port) : "0");
      cmd.add("--save");
      cmd.add("");
      cmd.add("--appendonly");
      cmd.add("no");
      cmd.add("--dir");
      cmd.add(dir.toString());
      cmd.addAll(extra);
      try {
        Files.createDirectories(dir);
        process =
            new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis-" + port + ".log").toFile())
                .start();
      } catch (IOException e) {
        fail(
            "cannot start redis-server (install with: apt-get install -y redis-server"
                + " redis-tools): "
                + e,
            e);
      }
      awaitTrue(
          "redis-server on port " + port,
          Duration.ofSeconds(10),
          () -> {
            if (!process.isAlive()) {
              fail("redis-server on port " + port + " exited: " + log());
            }
            return plainText ? pings(port) : listens(port);
          });
      return this;
    }

    String log() {
      try {
        return Files.readString(dir.resolve("redis-" + port + ".log"));
      } catch (IOException e) {
        return "(no log)";
      }
    }

    long pid() {
      return process.pid();
    }

    /** Kills the server by its pid and waits until it is gone. */
    void stop() {
      if (process != null && process.isAlive()) {
        process.destroy();
        try {
          if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void close() {
      stop();
    }
  }
}
