package dev.onceflow.chaos;

import java.time.Duration;

/**
 * Short mode (the default, part of {@code mvn verify}: small counts, the whole suite in a few
 * minutes) or long mode ({@code -Dchaos.mode=long -Dchaos.minutes=30}: larger counts, repeated
 * until the minutes are up, by {@code ChaosSoakIT}).
 */
final class Mode {

  private Mode() {}

  static boolean isLong() {
    return "long".equals(System.getProperty("chaos.mode", "short"));
  }

  /** {@code shortCount} in short mode, {@code longCount} in long mode. */
  static int count(int shortCount, int longCount) {
    return isLong() ? longCount : shortCount;
  }

  static Duration minutes() {
    return Duration.ofMinutes(Long.getLong("chaos.minutes", 30));
  }

  /** The seed of a run: -Dchaos.seed, else a fixed one per scenario (deterministic). */
  static long seed(String scenario, Object broker, int round) {
    long base = Long.getLong("chaos.seed", 14L);
    return base * 1_000_003L + (scenario + "/" + broker).hashCode() * 31L + round;
  }
}
