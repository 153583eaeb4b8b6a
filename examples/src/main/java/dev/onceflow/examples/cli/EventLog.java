package dev.onceflow.examples.cli;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineListener;
import dev.onceflow.store.RecordedOutcome;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Test hook: a {@link PipelineListener} that appends one line per step of every delivery to a file,
 * for the chaos suite's history checker ({@code onceflow-chaos}). Not an operations feature.
 *
 * <p>Line format, tab-separated: {@code <nanoTime> <pid> <event> <message id> <key> <fence>
 * <detail>}, with {@code -} for a missing value. {@code nanoTime} is {@link System#nanoTime()}: on
 * Linux the monotonic clock, shared by every process of the machine, so the lines of several
 * consumers (and the fault times of the test) can be ordered. Events: {@code delivered}, {@code
 * acquired}, {@code started} (detail: attempt), {@code finished} (detail: attempt and {@code ok} or
 * the error class), {@code dead-lettered} (detail: reason), {@code recorded} (detail: outcome),
 * {@code acked} (detail: processed, duplicate or dead-lettered), {@code nacked} (detail: reason),
 * {@code crash} (detail: the crash point), {@code start} and {@code stop}.
 *
 * <p>Every line is written and flushed to the file under a lock before the pipeline goes on, so a
 * SIGKILL loses nothing that the pipeline did after it; a process killed while writing may leave a
 * truncated last line, which readers skip. The crash hook ({@code --crash-at}) halts the JVM with
 * {@link Runtime#halt} right after its {@code crash} line.
 */
final class EventLog implements PipelineListener, AutoCloseable {

  /** Where {@code --crash-at} halts the JVM. */
  enum CrashPoint {
    /** Just before the handler's first attempt (nothing applied). */
    BEFORE_HANDLER("before-handler"),
    /** After the handler succeeded, before the store records the outcome. */
    AFTER_HANDLER("after-handler"),
    /** After the store recorded the outcome, before the broker ack. */
    AFTER_RECORD("after-record");

    final String label;

    CrashPoint(String label) {
      this.label = label;
    }

    static CrashPoint parse(String label) {
      for (CrashPoint p : values()) {
        if (p.label.equals(label)) {
          return p;
        }
      }
      throw new IllegalArgumentException(
          "--crash-at must be before-handler, after-handler or after-record, but was '"
              + label
              + "'");
    }
  }

  private final @Nullable BufferedWriter out;
  private final long pid = ProcessHandle.current().pid();
  private final @Nullable CrashPoint crashAt;
  private final long crashAfter;
  private final AtomicLong reached = new AtomicLong();

  /**
   * @param file the log file (appended to), or null for no log
   * @param crashAt where to halt, or null never
   * @param crashAfter halt on the N-th time the crash point is reached (from 1)
   */
  EventLog(@Nullable Path file, @Nullable CrashPoint crashAt, long crashAfter) {
    this.crashAt = crashAt;
    this.crashAfter = crashAfter;
    try {
      this.out =
          file == null
              ? null
              : Files.newBufferedWriter(
                  file,
                  StandardCharsets.UTF_8,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.APPEND,
                  StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the event log " + file, e);
    }
    write("start", null, null, -1, crashAt == null ? "-" : crashAt.label + "@" + crashAfter);
  }

  @Override
  public void delivered(Envelope envelope) {
    write("delivered", envelope.messageId(), null, -1, "-");
  }

  @Override
  public void acquired(Envelope envelope, String key, long fence) {
    write("acquired", envelope.messageId(), key, fence, "-");
  }

  @Override
  public void handlerStarted(Envelope envelope, String key, long fence, int attempt) {
    write("started", envelope.messageId(), key, fence, Integer.toString(attempt));
    if (attempt == 1) {
      maybeCrash(CrashPoint.BEFORE_HANDLER, envelope, key, fence);
    }
  }

  @Override
  public void handlerFinished(
      Envelope envelope, String key, long fence, int attempt, @Nullable Throwable failure) {
    write(
        "finished",
        envelope.messageId(),
        key,
        fence,
        attempt + "," + (failure == null ? "ok" : failure.getClass().getSimpleName()));
    if (failure == null) {
      maybeCrash(CrashPoint.AFTER_HANDLER, envelope, key, fence);
    }
  }

  @Override
  public void deadLettered(Envelope envelope, DeadLetter deadLetter) {
    write(
        "dead-lettered",
        envelope.messageId(),
        deadLetter.dedupKey(),
        -1,
        deadLetter.reason().name());
  }

  @Override
  public void recorded(Envelope envelope, String key, long fence, RecordedOutcome outcome) {
    write("recorded", envelope.messageId(), key, fence, outcome.name());
    maybeCrash(CrashPoint.AFTER_RECORD, envelope, key, fence);
  }

  @Override
  public void settled(Outcome<?> outcome) {
    Envelope e = outcome.envelope();
    if (outcome instanceof Outcome.Processed<?> p) {
      write("acked", e.messageId(), p.key(), p.fence(), "processed");
    } else if (outcome instanceof Outcome.Duplicate<?> d) {
      write("acked", e.messageId(), d.key(), -1, "duplicate");
    } else if (outcome instanceof Outcome.DeadLettered<?> d) {
      write("acked", e.messageId(), d.key(), -1, "dead-lettered");
    } else if (outcome instanceof Outcome.Nacked<?> n) {
      write("nacked", e.messageId(), n.key(), -1, n.reason().name());
    }
  }

  private void maybeCrash(CrashPoint point, Envelope envelope, String key, long fence) {
    if (point == crashAt && reached.incrementAndGet() == crashAfter) {
      write("crash", envelope.messageId(), key, fence, point.label);
      Runtime.getRuntime().halt(137);
    }
  }

  private void write(
      String event, @Nullable String id, @Nullable String key, long fence, String detail) {
    if (out == null) {
      return;
    }
    String rest =
        "\t"
            + pid
            + "\t"
            + event
            + "\t"
            + (id == null ? "-" : id)
            + "\t"
            + (key == null ? "-" : key)
            + "\t"
            + (fence < 0 ? "-" : Long.toString(fence))
            + "\t"
            + detail
            + "\n";
    synchronized (this) {
      try {
        out.write(Long.toString(System.nanoTime()));
        out.write(rest);
        out.flush();
      } catch (IOException ignored) {
        // a full disk must not change what the pipeline does; the checker sees the gap
      }
    }
  }

  @Override
  public void close() {
    if (out != null) {
      write("stop", null, null, -1, "-");
      synchronized (this) {
        try {
          out.close();
        } catch (IOException ignored) {
          // nothing left to do
        }
      }
    }
  }
}
