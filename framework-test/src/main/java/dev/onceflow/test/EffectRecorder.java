package dev.onceflow.test;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts how many times each message's effect was applied, to check "exactly once" and "nothing
 * lost" in one line. Thread-safe.
 */
public final class EffectRecorder {
  private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();

  /** Records one application of the effect of {@code key}; returns how many so far. */
  public int apply(String key) {
    return counts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
  }

  public int count(String key) {
    AtomicInteger c = counts.get(key);
    return c == null ? 0 : c.get();
  }

  /** Total applications over all keys. */
  public int total() {
    return counts.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  /** Keys applied more than once, with their counts. */
  public Map<String, Integer> doubled() {
    Map<String, Integer> out = new TreeMap<>();
    counts.forEach(
        (k, v) -> {
          if (v.get() > 1) {
            out.put(k, v.get());
          }
        });
    return out;
  }

  /**
   * Throws an {@link AssertionError} unless every key in {@code expected} was applied exactly once
   * and no other key was applied.
   */
  public void assertExactlyOnce(Collection<String> expected) {
    Map<String, Integer> wrong = new TreeMap<>();
    for (String k : expected) {
      int c = count(k);
      if (c != 1) {
        wrong.put(k, c);
      }
    }
    counts.forEach(
        (k, v) -> {
          if (!expected.contains(k)) {
            wrong.put(k, v.get());
          }
        });
    if (!wrong.isEmpty()) {
      throw new AssertionError(
          "effects not applied exactly once (key=count, first 20): "
              + wrong.entrySet().stream().limit(20).toList()
              + " of "
              + wrong.size()
              + " wrong keys");
    }
  }
}
