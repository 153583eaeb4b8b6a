package dev.onceflow.chaos;

import dev.onceflow.chaos.Verdict.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Appends one Markdown table row per run to {@code target/chaos/results.md}: the figures of
 * docs/RELIABILITY.md.
 */
final class Results {

  static final Path FILE = ChaosRun.ROOT.resolve("results.md");

  static final String HEADER =
      "| scenario | broker | effects | messages (sent) | faults | lost | doubled tx / plain |"
          + " records lost | effects missing | max runs/key | max recovery (bound) | leftovers |"
          + " verdict | run | command |\n"
          + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

  private Results() {}

  static synchronized void append(
      ChaosRun run, Verdict v, long leftovers, String command, Set<Rule> tolerated) {
    Duration bound = Duration.ZERO;
    StringBuilder faults = new StringBuilder();
    java.util.Map<Fault.Kind, Integer> byKind = new java.util.EnumMap<>(Fault.Kind.class);
    for (Verdict.Recovery r : v.recoveries()) {
      byKind.merge(r.fault().kind(), 1, Integer::sum);
      if (r.fault().recoveryBound().compareTo(bound) > 0) {
        bound = r.fault().recoveryBound();
      }
    }
    byKind.forEach(
        (k, n) -> faults.append(faults.length() == 0 ? "" : ", ").append(n).append(' ').append(k));
    String verdict =
        v.passed()
            ? "pass"
            : v.passed(tolerated)
                ? "pass (measured: " + v.violations.keySet() + ")"
                : "FAIL " + v.violations.keySet();
    String row =
        String.format(
            "| %s | %s | %s | %d (%d) | %s | %d | %d / %d | %d | %d | %d | %s (%s) | %d | %s | %s |"
                + " `%s` |%n",
            run.scenario,
            run.broker,
            run.effect.name().toLowerCase(java.util.Locale.ROOT),
            v.messages(),
            v.sentCopies,
            faults.length() == 0 ? "none" : faults,
            v.lost(),
            v.doubledTransactional(),
            v.doubledPlain(),
            v.recordsLost(),
            v.effectsMissing(),
            v.maxRunsPerKey(),
            Verdict.seconds(v.maxRecovery()),
            Verdict.seconds(bound),
            leftovers,
            verdict,
            run.id,
            command);
    try {
      Files.createDirectories(FILE.getParent());
      if (!Files.exists(FILE)) {
        Files.writeString(FILE, HEADER);
      }
      Files.writeString(FILE, row, StandardOpenOption.APPEND);
      Files.writeString(
          ChaosRun.ROOT.resolve("results.log"),
          Instant.now() + " " + run.id + "\n" + v.report(),
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println("cannot write " + FILE + ": " + e);
    }
  }
}
