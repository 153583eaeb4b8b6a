package dev.onceflow.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PartitionAcksTest {

  @Test
  void inOrderAcksMoveTheCommitPositionOneByOne() {
    PartitionAcks<String> acks = new PartitionAcks<>();
    PartitionAcks.Entry<String> a = acks.add(0, "a");
    PartitionAcks.Entry<String> b = acks.add(1, "b");

    assertThat(acks.ack(a)).isSameAs(a);
    assertThat(acks.commitOffset()).isEqualTo(1);
    assertThat(acks.ack(b)).isSameAs(b);
    assertThat(acks.commitOffset()).isEqualTo(2);
    assertThat(acks.pending()).isZero();
  }

  @Test
  void anUnfinishedRecordHoldsTheCommitUntilItIsAcked() {
    PartitionAcks<String> acks = new PartitionAcks<>();
    PartitionAcks.Entry<String> a = acks.add(10, "a");
    PartitionAcks.Entry<String> b = acks.add(11, "b");
    PartitionAcks.Entry<String> c = acks.add(12, "c");

    assertThat(acks.ack(c)).isNull();
    assertThat(acks.ack(b)).isNull();
    assertThat(acks.commitOffset()).isEqualTo(-1);
    assertThat(acks.lowestUnacked()).isEqualTo(10);

    assertThat(acks.ack(a)).isSameAs(c);
    assertThat(acks.commitOffset()).isEqualTo(13);
    assertThat(acks.lowestUnacked()).isEqualTo(-1);
  }

  @Test
  void offsetGapsFromCompactionOrTransactionMarkersDoNotBlockTheCommit() {
    PartitionAcks<String> acks = new PartitionAcks<>();
    PartitionAcks.Entry<String> a = acks.add(3, "a");
    PartitionAcks.Entry<String> b = acks.add(7, "b");

    acks.ack(b);
    assertThat(acks.ack(a)).isSameAs(b);
    assertThat(acks.commitOffset()).isEqualTo(8);
  }

  @Test
  void ackingTwiceChangesNothing() {
    PartitionAcks<String> acks = new PartitionAcks<>();
    PartitionAcks.Entry<String> a = acks.add(0, "a");
    acks.add(1, "b");

    assertThat(acks.ack(a)).isSameAs(a);
    assertThat(acks.ack(a)).isNull();
    assertThat(acks.commitOffset()).isEqualTo(1);
  }

  @Test
  void offsetsThatDoNotIncreaseAreRejected() {
    PartitionAcks<String> acks = new PartitionAcks<>();
    acks.add(5, "a");

    assertThatThrownBy(() -> acks.add(5, "again"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("5 came after 5");
    assertThatThrownBy(() -> acks.add(4, "back")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anEntryOfAnotherTrackerIsRejected() {
    PartitionAcks<String> old = new PartitionAcks<>();
    PartitionAcks.Entry<String> e = old.add(0, "a");
    PartitionAcks<String> current = new PartitionAcks<>();
    current.add(0, "a");

    assertThatThrownBy(() -> current.ack(e)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void inRandomCompletionOrdersTheCommitNeverPassesAnUnfinishedRecord() {
    Random random = new Random(42);
    for (int iteration = 0; iteration < 2_000; iteration++) {
      PartitionAcks<Long> acks = new PartitionAcks<>();
      int n = 1 + random.nextInt(200);
      List<PartitionAcks.Entry<Long>> entries = new ArrayList<>();
      long offset = random.nextInt(1000);
      for (int i = 0; i < n; i++) {
        offset += 1 + (random.nextInt(10) == 0 ? random.nextInt(5) : 0);
        entries.add(acks.add(offset, offset));
      }
      TreeSet<Long> unfinished = new TreeSet<>();
      entries.forEach(e -> unfinished.add(e.offset()));
      List<PartitionAcks.Entry<Long>> order = new ArrayList<>(entries);
      Collections.shuffle(order, random);

      long lastCommit = -1;
      int prefix = 0;
      for (PartitionAcks.Entry<Long> e : order) {
        PartitionAcks.Entry<Long> moved = acks.ack(e);
        unfinished.remove(e.offset());
        long commit = acks.commitOffset();
        // Expected: the offset after the last record of the finished prefix.
        while (prefix < n && !unfinished.contains(entries.get(prefix).offset())) {
          prefix++;
        }
        long expected = prefix == 0 ? -1 : entries.get(prefix - 1).offset() + 1;
        if (commit != expected
            || commit < lastCommit
            || (!unfinished.isEmpty() && commit > unfinished.first())
            || (moved == null) != (commit == lastCommit)) {
          fail(
              "iteration %d: commit %d, expected %d (last %d, lowest unfinished %s)",
              iteration,
              commit,
              expected,
              lastCommit,
              unfinished.isEmpty() ? "-" : unfinished.first());
        }
        lastCommit = commit;
      }
      assertThat(acks.commitOffset()).isEqualTo(entries.get(n - 1).offset() + 1);
      assertThat(acks.pending()).isZero();
    }
  }
}
