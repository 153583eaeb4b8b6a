package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Processes the suite starts: every one is registered, and a JVM shutdown hook kills whatever a
 * test did not stop (a test JVM killed by a timeout leaves no consumer or redis-server behind).
 */
final class Procs {

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  for (Process p : LIVE) {
                    p.destroyForcibly();
                  }
                },
                "chaos-process-reaper"));
  }

  private Procs() {}

  /** Starts and registers a process. */
  static Process start(ProcessBuilder pb) {
    try {
      Process p = pb.start();
      LIVE.add(p);
      p.onExit().thenRun(() -> LIVE.remove(p));
      return p;
    } catch (IOException e) {
      return fail("cannot start " + String.join(" ", pb.command()) + ": " + e, e);
    }
  }

  /** SIGKILLs the process and waits for it to be gone. */
  static void kill(Process p) {
    p.destroyForcibly();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        fail("process " + p.pid() + " did not die after SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends a signal by name (STOP, CONT, TERM, KILL) to a pid. */
  static void signal(long pid, String signal) {
    try {
      Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        fail("kill -" + signal + " " + pid + " failed");
      }
    } catch (IOException e) {
      fail("cannot run kill: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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

  /** Polls {@code check} every 20 ms until it holds; fails the test after {@code max}. */
  static void await(String what, Duration max, BooleanSupplier check) {
    long end = System.nanoTime() + max.toNanos();
    while (!check.getAsBoolean()) {
      if (System.nanoTime() > end) {
        fail("timed out after " + max + " waiting for " + what);
      }
      sleep(Duration.ofMillis(20));
    }
  }

  /** Polls {@code check} until it holds or {@code max} passed; returns whether it held. */
  static boolean poll(Duration max, BooleanSupplier check) {
    long end = System.nanoTime() + max.toNanos();
    while (!check.getAsBoolean()) {
      if (System.nanoTime() > end) {
        return false;
      }
      sleep(Duration.ofMillis(20));
    }
    return true;
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Whether a plain Redis (or Sentinel) on the port answers PING within half a second. */
  static boolean pings(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      s.setSoTimeout(500);
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

  /** Sends one inline command to a Redis or Sentinel and returns the raw reply (up to 64 KiB). */
  static String redisCommand(int port, String command) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[65536];
      int n = in.read(buf);
      return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
