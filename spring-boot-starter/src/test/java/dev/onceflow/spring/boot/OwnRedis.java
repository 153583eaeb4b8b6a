package dev.onceflow.spring.boot;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A redis-server process owned by one test, on a free loopback port, that the test may stop and
 * start again (the machine's shared Redis on 6379 is never stopped). Needs {@code redis-server} on
 * the PATH ({@code apt-get install -y redis-server}).
 */
final class OwnRedis implements AutoCloseable {

  private final int port;
  private Process process;

  private OwnRedis(int port) {
    this.port = port;
  }

  static OwnRedis start() {
    OwnRedis r = new OwnRedis(freePort());
    r.up();
    return r;
  }

  int port() {
    return port;
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /** Starts the server (again), and waits until it listens. */
  synchronized void up() {
    if (process != null && process.isAlive()) {
      return;
    }
    try {
      process =
          new ProcessBuilder(
                  List.of(
                      "redis-server",
                      "--port",
                      Integer.toString(port),
                      "--bind",
                      "127.0.0.1",
                      "--save",
                      "",
                      "--appendonly",
                      "no"))
              .redirectErrorStream(true)
              .redirectOutput(
                  new File(System.getProperty("java.io.tmpdir"), "own-redis-" + port + ".log"))
              .start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot start redis-server (apt-get install -y redis-server): " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (listens()) {
        return;
      }
      sleep(50);
    }
    throw new IllegalStateException("redis-server on port " + port + " did not start");
  }

  /** Stops the server (SIGTERM) and waits until it is gone. */
  synchronized void down() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  private boolean listens() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    down();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
