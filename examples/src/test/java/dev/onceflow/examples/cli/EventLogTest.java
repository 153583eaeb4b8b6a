package dev.onceflow.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onceflow.core.Envelope;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.store.RecordedOutcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event log writes one whole, ordered, tab-separated line per step. */
class EventLogTest {

  @Test
  void everyStepIsOneLineInOrderWithPidAndFence(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("c1.events");
    Envelope e =
        Envelope.builder().messageId("m1").payload("x".getBytes(StandardCharsets.UTF_8)).build();
    try (EventLog log = new EventLog(file, null, 1)) {
      log.delivered(e);
      log.acquired(e, "m1", 7);
      log.handlerStarted(e, "m1", 7, 1);
      log.handlerFinished(e, "m1", 7, 1, null);
      log.recorded(e, "m1", 7, RecordedOutcome.PROCESSED);
      log.settled(new Outcome.Processed<>(e, "m1", 7, null, 1));
      log.settled(new Outcome.Nacked<>(e, "m1", NackReason.IN_PROGRESS, null));
    }
    List<String> lines = Files.readAllLines(file);
    long pid = ProcessHandle.current().pid();
    assertThat(lines).hasSize(9);
    assertThat(lines.stream().map(l -> l.split("\t", -1)).map(f -> f[2]))
        .containsExactly(
            "start",
            "delivered",
            "acquired",
            "started",
            "finished",
            "recorded",
            "acked",
            "nacked",
            "stop");
    assertThat(lines.get(2).split("\t", -1))
        .hasSize(7)
        .containsSequence(Long.toString(pid), "acquired", "m1", "m1", "7", "-");
    assertThat(lines.get(4)).endsWith("\tfinished\tm1\tm1\t7\t1,ok");
    assertThat(lines.get(6)).endsWith("\tacked\tm1\tm1\t7\tprocessed");
    assertThat(lines.get(7)).endsWith("\tnacked\tm1\tm1\t-\tIN_PROGRESS");
    long previous = Long.MIN_VALUE;
    for (String line : lines) {
      long t = Long.parseLong(line.split("\t")[0]);
      assertThat(t).isGreaterThanOrEqualTo(previous);
      previous = t;
    }
  }

  @Test
  void crashPointsParseByTheirOptionNames() {
    assertThat(EventLog.CrashPoint.parse("after-record"))
        .isEqualTo(EventLog.CrashPoint.AFTER_RECORD);
    assertThat(EventLog.CrashPoint.parse("before-handler"))
        .isEqualTo(EventLog.CrashPoint.BEFORE_HANDLER);
  }
}
