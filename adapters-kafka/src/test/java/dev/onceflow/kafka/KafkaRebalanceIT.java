package dev.onceflow.kafka;

import static dev.onceflow.kafka.KafkaTestSupport.committed;
import static dev.onceflow.kafka.KafkaTestSupport.endOffsets;
import static dev.onceflow.kafka.KafkaTestSupport.kafka;
import static dev.onceflow.kafka.KafkaTestSupport.options;
import static dev.onceflow.kafka.KafkaTestSupport.produce;
import static dev.onceflow.kafka.KafkaTestSupport.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.onceflow.core.Delivery;
import dev.onceflow.kafka.KafkaTestSupport.Raw;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Many members joining and leaving a group while every member is backpressured (slow handlers,
 * bounded concurrency): every record is handled and every partition is committed to its end. Found
 * by the chaos suite: consumers that joined during rebalances under backpressure never fetched.
 */
@ExtendWith(SharedKafka.class)
class KafkaRebalanceIT {

  private static final int PARTITIONS = 8;

  /** One member: handles each delivery after a random delay, a few at a time. */
  private static final class Member {
    final String name;
    final AtomicLong handled = new AtomicLong();
    final Disposable running;

    Member(String name, KafkaSource source, Set<String> seen, int concurrency, int maxDelayMs) {
      this.name = name;
      this.running =
          source
              .receive()
              .flatMap(
                  d ->
                      Mono.delay(
                              Duration.ofMillis(ThreadLocalRandom.current().nextInt(1, maxDelayMs)))
                          .then(ack(d, seen)),
                  concurrency)
              .subscribe();
    }

    private Mono<Void> ack(Delivery d, Set<String> seen) {
      return d.ack()
          .doOnSuccess(
              v -> {
                seen.add(d.envelope().messageId());
                handled.incrementAndGet();
              });
    }

    @Override
    public String toString() {
      return name + " handled " + handled.get();
    }
  }

  @Test
  void membersJoiningAndLeavingUnderBackpressureLoseNothingAndCommitEveryPartition()
      throws InterruptedException {
    String topic = unique("rebalance");
    String group = unique("g");
    int total = 8000;
    kafka().createTopic(topic, PARTITIONS);
    produce(
        topic,
        IntStream.range(0, total)
            .mapToObj(i -> new Raw("k-" + i, "rb-" + i, "payload-" + i))
            .toList());
    KafkaSourceOptions opts = options(topic, group).maxInFlight(16).build();
    Set<String> seen = ConcurrentHashMap.newKeySet();
    List<Member> members = new ArrayList<>();
    try {
      // Eight members join one after the other, each while the others are busy.
      for (int i = 0; i < 8; i++) {
        members.add(new Member("m" + i, KafkaSource.create(opts), seen, 2, 60));
        Thread.sleep(700);
      }
      // Two leave, two more join, while records are still waiting.
      members.get(1).running.dispose();
      Thread.sleep(300);
      members.get(5).running.dispose();
      for (int i = 8; i < 10; i++) {
        members.add(new Member("m" + i, KafkaSource.create(opts), seen, 2, 60));
        Thread.sleep(500);
      }
      assertThat(seen.size())
          .as("still records left when the membership settled")
          .isLessThan(total);

      await()
          .atMost(Duration.ofSeconds(120))
          .untilAsserted(
              () ->
                  assertThat(seen.size())
                      .as("records handled; members %s", members)
                      .isEqualTo(total));
      long[] end = endOffsets(topic, PARTITIONS);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(committed(group, topic, PARTITIONS)).isEqualTo(end));
    } finally {
      members.forEach(m -> m.running.dispose());
    }
  }
}
