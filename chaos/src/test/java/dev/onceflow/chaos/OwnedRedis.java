package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A {@code redis-server} the test owns, on a free loopback port, with append-only persistence
 * ({@code appendfsync always}: a SIGKILL of the server loses no acknowledged write). It can be
 * paused (SIGSTOP), resumed (SIGCONT), killed (SIGKILL) and restarted from its AOF.
 */
final class OwnedRedis implements AutoCloseable {

  final int port;
  private final Path dir;
  private final List<String> extra;
  private @Nullable Process process;

  OwnedRedis(Path dir, List<String> extra) {
    this.port = Procs.freePort();
    this.dir = dir;
    this.extra = extra;
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  long pid() {
    return process == null ? -1 : process.pid();
  }

  OwnedRedis start() {
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      fail("cannot create " + dir, e);
    }
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            "redis-server",
            "--port",
            Integer.toString(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            dir.toString(),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--protected-mode",
            "no"));
    cmd.addAll(extra);
    Process p =
        Procs.start(
            new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(
                    java.lang.ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())));
    process = p;
    Procs.await(
        "redis-server on port " + port + " (log: " + dir.resolve("redis.log") + ")",
        Duration.ofSeconds(30),
        () -> {
          if (!p.isAlive()) {
            fail("redis-server exited, see " + dir.resolve("redis.log"));
          }
          return Procs.pings(port);
        });
    return this;
  }

  /** SIGSTOP: the server stops answering, its connections stay open. */
  void pause() {
    Procs.signal(pid(), "STOP");
  }

  /** SIGCONT: the server answers again, running what queued on its sockets. */
  void resume() {
    Procs.signal(pid(), "CONT");
  }

  /** SIGKILL, and wait until the process is gone. */
  void kill() {
    if (process != null) {
      Procs.kill(process);
    }
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
