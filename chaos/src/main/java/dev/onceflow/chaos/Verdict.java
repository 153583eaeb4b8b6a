package dev.onceflow.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** What the checker found: the violations of each rule and the run's figures. */
public final class Verdict {

  /** The rules the checker enforces. */
  public enum Rule {
    /** A delivery was acked before its outcome was recorded (or without a record of its fence). */
    ACK_BEFORE_RECORD,
    /** A key was completed (recorded) more than once. */
    TWO_COMPLETIONS,
    /** A holder completed a key after a higher fence had been granted on it. */
    STALE_FENCE,
    /** A published id never ended processed, duplicate or dead-lettered. */
    LOST,
    /** A poison or malformed message did not end in the dead-letter destination, or had effect. */
    POISON_NOT_DEAD_LETTERED,
    /** A transactional effect was not applied exactly once. */
    TRANSACTIONAL_NOT_ONCE,
    /** A plain effect ran more than 1 + (faults that hit its key) times, or never. */
    PLAIN_OVER_BOUND,
    /** The work a fault interrupted took longer than the fault's bound to complete. */
    RECOVERY_TOO_SLOW
  }

  /**
   * Recovery after one fault.
   *
   * @param fault the fault
   * @param resume from the fault's end to the next completion (null: none followed)
   * @param recovery from the fault's end until every key it interrupted completed (null: some never
   *     did)
   * @param keys how many keys the fault interrupted
   */
  public record Recovery(
      Fault fault, @Nullable Duration resume, @Nullable Duration recovery, int keys) {}

  final Map<Rule, List<String>> violations = new EnumMap<>(Rule.class);
  final List<Recovery> recoveries = new ArrayList<>();
  long messages;
  long sentCopies;
  long lost;
  long doubledTransactional;
  long doubledPlain;
  long effectsMissing;
  long recordsLost;
  long maxRunsPerKey;
  long events;

  void violate(Rule rule, String detail) {
    violations.computeIfAbsent(rule, r -> new ArrayList<>()).add(detail);
  }

  /** The violations of {@code rule} (empty when it held). */
  public List<String> violations(Rule rule) {
    return violations.getOrDefault(rule, List.of());
  }

  /** Whether every rule held except those in {@code tolerated} (measured, not enforced). */
  public boolean passed(Set<Rule> tolerated) {
    return violations.keySet().stream().allMatch(tolerated::contains);
  }

  /** Whether every rule held. */
  public boolean passed() {
    return violations.isEmpty();
  }

  public List<Recovery> recoveries() {
    return List.copyOf(recoveries);
  }

  /** Distinct message ids published. */
  public long messages() {
    return messages;
  }

  /** Ids that never ended processed, duplicate or dead-lettered. */
  public long lost() {
    return lost;
  }

  /** Ids whose transactional effect was applied more than once. */
  public long doubledTransactional() {
    return doubledTransactional;
  }

  /** Ids whose plain effect was applied more than once (within or beyond the bound). */
  public long doubledPlain() {
    return doubledPlain;
  }

  /** Ids that ended without their effect (a transactional effect lost with its record). */
  public long effectsMissing() {
    return effectsMissing;
  }

  /** Keys that were recorded more than once (each a record the store lost or a bug). */
  public long recordsLost() {
    return recordsLost;
  }

  /** The most handler runs (distinct leases that started the handler) of one key. */
  public long maxRunsPerKey() {
    return maxRunsPerKey;
  }

  /**
   * The longest recovery over the faults, or null when one never recovered; zero without faults.
   */
  public @Nullable Duration maxRecovery() {
    Duration max = Duration.ZERO;
    for (Recovery r : recoveries) {
      if (r.recovery() == null) {
        return null;
      }
      if (r.recovery().compareTo(max) > 0) {
        max = r.recovery();
      }
    }
    return max;
  }

  /** A multi-line report: figures, recoveries and (up to 10 per rule) violations. */
  public String report() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "messages=%d sent=%d events=%d faults=%d lost=%d doubledTransactional=%d"
                + " doubledPlain=%d effectsMissing=%d recordsLost=%d maxRunsPerKey=%d"
                + " maxRecovery=%s%n",
            messages,
            sentCopies,
            events,
            recoveries.size(),
            lost,
            doubledTransactional,
            doubledPlain,
            effectsMissing,
            recordsLost,
            maxRunsPerKey,
            seconds(maxRecovery())));
    for (Recovery r : recoveries) {
      b.append(
          String.format(
              "  fault %s pid=%d: keys=%d resume=%s recovery=%s bound=%s%n",
              r.fault().kind(),
              r.fault().pid(),
              r.keys(),
              seconds(r.resume()),
              seconds(r.recovery()),
              seconds(r.fault().recoveryBound())));
    }
    violations.forEach(
        (rule, list) -> {
          b.append(String.format("  VIOLATED %s (%d):%n", rule, list.size()));
          list.stream().limit(10).forEach(v -> b.append("    ").append(v).append('\n'));
        });
    if (violations.isEmpty()) {
      b.append("  every rule held\n");
    }
    return b.toString();
  }

  /** A duration as seconds with one decimal, or "never". */
  public static String seconds(@Nullable Duration d) {
    return d == null ? "never" : String.format("%.1fs", d.toMillis() / 1000.0);
  }
}
