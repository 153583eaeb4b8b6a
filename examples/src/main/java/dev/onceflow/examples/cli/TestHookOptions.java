package dev.onceflow.examples.cli;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Hidden options of {@code consume} that exist for the chaos suite ({@code onceflow-chaos}) and
 * other tests: an event log of every step and a crash at a chosen point. They are not shown by
 * {@code --help} and are not part of the CLI's documented surface.
 */
final class TestHookOptions {

  @Option(
      names = "--event-log",
      hidden = true,
      paramLabel = "FILE",
      description = "Test hook: append one line per delivery step to FILE (see EventLog).")
  @Nullable Path eventLog;

  @Option(
      names = "--crash-at",
      hidden = true,
      paramLabel = "POINT",
      description =
          "Test hook: halt the JVM (Runtime.halt, like kill -9) at before-handler, after-handler"
              + " or after-record, on the --crash-after-th time that point is reached.")
  @Nullable String crashAt;

  @Option(
      names = "--crash-after",
      hidden = true,
      defaultValue = "1",
      paramLabel = "N",
      description = "Test hook: the crash point halts on its N-th message (default 1).")
  long crashAfter = 1;

  /** The listener these options ask for (call {@code CrashPoint.parse} first to validate). */
  EventLog listener() {
    return new EventLog(
        eventLog, crashAt == null ? null : EventLog.CrashPoint.parse(crashAt), crashAfter);
  }
}
