package dev.onceflow.chaos;

import dev.onceflow.chaos.Verdict.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
          + " records lost | effects missing | max runs/key | slowest recovery / bound | leftovers |"
          + " verdict | run | command |\n"
          + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

  private Results() {}

  static synchronized void append(
      ChaosRun run, Verdict v, long leftovers, String command, Set<Rule> tolerated) {
    StringBuilder faults = new StringBuilder();
    StringBuilder recovery = new StringBuilder();
    java.util.Map<Fault.Kind, Integer> byKind = new java.util.EnumMap<>(Fault.Kind.class);
    java.util.Map<Fault.Kind, Verdict.Recovery> worst = new java.util.EnumMap<>(Fault.Kind.class);
    for (Verdict.Recovery r : v.recoveries()) {
      Fault.Kind k = r.fault().kind();
      byKind.merge(k, 1, Integer::sum);
      Verdict.Recovery w = worst.get(k);
      if (w == null
          || (w.recovery() != null
              && (r.recovery() == null || r.recovery().compareTo(w.recovery()) > 0))) {
        worst.put(k, r);
      }
    }
    byKind.forEach(
        (k, n) -> faults.append(faults.length() == 0 ? "" : ", ").append(n).append(' ').append(k));
    worst.forEach(
        (k, r) ->
            recovery
                .append(recovery.length() == 0 ? "" : ", ")
                .append(k)
                .append(' ')
                .append(Verdict.seconds(r.recovery()))
                .append(" / ")
                .append(Verdict.seconds(r.fault().recoveryBound())));
    String verdict =
        v.passed()
            ? "pass"
            : v.passed(tolerated)
                ? "pass (measured: " + v.violations.keySet() + ")"
                : "FAIL " + v.violations.keySet();
    String row =
        String.format(
            "| %s | %s | %s | %d (%d) | %s | %d | %d / %d | %d | %d | %d | %s | %d | %s | %s |"
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
            recovery.length() == 0 ? "-" : recovery,
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
