package dev.onceflow.examples.cli;

import java.util.Random;

/**
 * The message sequence of a {@code bench} run: for each position, the index of the unique message
 * it carries. A fraction of the positions re-send an earlier message (a duplicate): half of them
 * one of the 64 messages just before it (so that the original is likely still in flight beside it),
 * the other half any earlier one. The same seed gives the same sequence.
 */
final class BenchWorkload {

  /** How far back a near duplicate reaches. */
  static final int NEAR = 64;

  private final int[] positions;
  private final int uniques;

  private BenchWorkload(int[] positions, int uniques) {
    this.positions = positions;
    this.uniques = uniques;
  }

  static BenchWorkload generate(int messages, double duplicateRatio, long seed) {
    Random random = new Random(seed);
    int[] positions = new int[messages];
    int uniques = 0;
    for (int p = 0; p < messages; p++) {
      if (uniques > 0 && random.nextDouble() < duplicateRatio) {
        if (random.nextBoolean()) {
          int back = 1 + random.nextInt(Math.min(NEAR, p));
          positions[p] = positions[p - back];
        } else {
          positions[p] = random.nextInt(uniques);
        }
      } else {
        positions[p] = uniques++;
      }
    }
    return new BenchWorkload(positions, uniques);
  }

  /** Messages in all, duplicates included. */
  int messages() {
    return positions.length;
  }

  /** Distinct message ids. */
  int uniques() {
    return uniques;
  }

  int duplicates() {
    return positions.length - uniques;
  }

  /** The unique message at position {@code p}. */
  int at(int p) {
    return positions[p];
  }
}
