package dev.onceflow.redis.bench;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Redis for the benchmark: a redis-server child process on a free loopback port (so that other
 * clients of the machine's Redis do not count in its CPU), or an existing one; and snapshots of its
 * {@code INFO cpu} and {@code INFO commandstats}.
 */
final class BenchRedis implements AutoCloseable {

  final String uri;
  final int port;
  private final Process process;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> admin;

  private BenchRedis(String uri, int port, Process process) {
    this.uri = uri;
    this.port = port;
    this.process = process;
    this.client = RedisClient.create(uri);
    this.admin = client.connect();
  }

  /** Starts a redis-server on a free port, extra arguments appended (e.g. replicaof). */
  static BenchRedis start(List<String> extra) throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("onceflow-bench-");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString()));
    cmd.addAll(extra);
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!listens(port)) {
      if (!p.isAlive() || System.nanoTime() > end) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "redis-server did not start: " + Files.readString(dir.resolve("redis.log")));
      }
      Thread.sleep(20);
    }
    return new BenchRedis("redis://127.0.0.1:" + port, port, p);
  }

  /** An existing Redis (not stopped at the end). */
  static BenchRedis existing(String uri) {
    return new BenchRedis(uri, io.lettuce.core.RedisURI.create(uri).getPort(), null);
  }

  private static boolean listens(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  String command(String... args) {
    io.lettuce.core.codec.StringCodec c = io.lettuce.core.codec.StringCodec.UTF8;
    io.lettuce.core.protocol.CommandArgs<String, String> a =
        new io.lettuce.core.protocol.CommandArgs<>(c);
    for (int i = 1; i < args.length; i++) {
      a.add(args[i]);
    }
    return String.valueOf(
        admin
            .sync()
            .dispatch(
                io.lettuce.core.protocol.CommandType.valueOf(args[0]),
                new io.lettuce.core.output.StatusOutput<>(c),
                a));
  }

  /** Used CPU (user + system) of the server in seconds. */
  double cpuSeconds() {
    double total = 0;
    for (String line : admin.sync().info("cpu").split("\r?\n")) {
      if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
        total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
      }
    }
    return total;
  }

  /** Per command: {calls, usec}. */
  Map<String, long[]> commandStats() {
    Map<String, long[]> out = new TreeMap<>();
    Matcher m =
        Pattern.compile("cmdstat_([a-z|_-]+):calls=(\\d+),usec=(\\d+)")
            .matcher(admin.sync().info("commandstats"));
    while (m.find()) {
      out.put(m.group(1), new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
    }
    return out;
  }

  /** Deletes the keys under a prefix (SCAN + UNLINK). */
  void clear(String prefix) {
    io.lettuce.core.api.sync.RedisCommands<String, String> s = admin.sync();
    io.lettuce.core.ScanIterator<String> it =
        io.lettuce.core.ScanIterator.scan(
            s, io.lettuce.core.ScanArgs.Builder.matches(prefix + "*").limit(1000));
    List<String> batch = new ArrayList<>();
    while (it.hasNext()) {
      batch.add(it.next());
      if (batch.size() == 1000) {
        s.unlink(batch.toArray(String[]::new));
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      s.unlink(batch.toArray(String[]::new));
    }
  }

  @Override
  public void close() {
    admin.close();
    client.shutdown();
    if (process != null) {
      process.destroy();
      try {
        process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
