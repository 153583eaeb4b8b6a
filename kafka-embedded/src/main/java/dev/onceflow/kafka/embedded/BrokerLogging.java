package dev.onceflow.kafka.embedded;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Keeps the in-JVM broker quiet at INFO: a broker logs hundreds of lines while it starts (its whole
 * configuration among them), which drown a test's or a demo's own output.
 *
 * <p>Lowers the broker's loggers to WARN while a broker runs, and the loggers it shares with
 * clients (configuration dumps, version banners) while a broker starts or stops. A logger whose
 * level the program configured itself is left alone, and every level is put back afterwards. Works
 * with Logback and with {@code java.util.logging} behind SLF4J, through reflection (neither is a
 * dependency); with another backend nothing changes.
 */
final class BrokerLogging {

  /** The broker's own loggers: quiet while any broker of this JVM runs. */
  static final List<String> BROKER =
      List.of(
          "kafka",
          "state.change.logger",
          "org.apache.kafka.controller",
          "org.apache.kafka.coordinator",
          "org.apache.kafka.image",
          "org.apache.kafka.metadata",
          "org.apache.kafka.queue",
          "org.apache.kafka.raft",
          "org.apache.kafka.security",
          "org.apache.kafka.server",
          "org.apache.kafka.snapshot",
          "org.apache.kafka.storage",
          "org.apache.kafka.common.test");

  /** Loggers the broker shares with clients: quiet only while a broker starts or stops. */
  static final List<String> SHARED =
      List.of(
          "org.apache.kafka.common.config.AbstractConfig",
          "org.apache.kafka.common.utils.AppInfoParser",
          "org.apache.kafka.common.metrics.Metrics",
          "org.apache.kafka.clients.NetworkClient");

  private static int running;
  private static Quieted broker = new Quieted(List.of());

  private BrokerLogging() {}

  /** Levels one call lowered; {@link #restore()} puts them back. */
  static final class Quieted {
    private final List<Changed> changed;

    private Quieted(List<Changed> changed) {
      this.changed = changed;
    }

    /** Puts back the levels this lowered; never throws. */
    void restore() {
      synchronized (BrokerLogging.class) {
        for (Changed c : changed) {
          c.restore();
        }
      }
    }
  }

  /** A logger whose level was lowered, and how to put it back. */
  private interface Changed {
    void restore();
  }

  /** A broker is about to start: quiets the broker's loggers and, until restored, the shared. */
  static synchronized Quieted starting() {
    if (running++ == 0) {
      broker = quiet(BROKER);
    }
    return quiet(SHARED);
  }

  /** A broker is about to stop: quiets the shared loggers until restored. */
  static synchronized Quieted stopping() {
    return quiet(SHARED);
  }

  /** A broker stopped (or failed to start): the last one puts the broker's loggers back. */
  static synchronized void stopped() {
    if (running > 0 && --running == 0) {
      broker.restore();
      broker = new Quieted(List.of());
    }
  }

  private static Quieted quiet(List<String> names) {
    List<Changed> changed = new ArrayList<>();
    for (String name : names) {
      try {
        Changed c = quiet(name);
        if (c != null) {
          changed.add(c);
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        break; // a backend version this does not know: leave logging as it is
      }
    }
    return new Quieted(changed);
  }

  private static @Nullable Changed quiet(String name) throws ReflectiveOperationException {
    Object logger = LoggerFactory.getLogger(name);
    Class<?> type = logger.getClass();
    if (type.getName().equals("ch.qos.logback.classic.Logger")) {
      Class<?> level = Class.forName("ch.qos.logback.classic.Level", true, type.getClassLoader());
      Method toInt = level.getMethod("toInt");
      Object warn = level.getField("WARN").get(null);
      Object effective = type.getMethod("getEffectiveLevel").invoke(logger);
      boolean configured = type.getMethod("getLevel").invoke(logger) != null;
      if (configured || (int) toInt.invoke(effective) >= (int) toInt.invoke(warn)) {
        return null;
      }
      Method setLevel = type.getMethod("setLevel", level);
      setLevel.invoke(logger, warn);
      return () -> {
        try {
          setLevel.invoke(logger, (Object) null);
        } catch (ReflectiveOperationException | RuntimeException e) {
          // stays quiet rather than fail a close
        }
      };
    }
    if (type.getName().equals("org.slf4j.jul.JDK14LoggerAdapter")) {
      // Held by the lambda below: JUL keeps only weak references to loggers.
      java.util.logging.Logger jul = java.util.logging.Logger.getLogger(name);
      if (jul.getLevel() != null || !jul.isLoggable(java.util.logging.Level.INFO)) {
        return null;
      }
      jul.setLevel(java.util.logging.Level.WARNING);
      return () -> jul.setLevel(null);
    }
    return null;
  }
}
