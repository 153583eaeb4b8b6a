package dev.onceflow.test.bench;

import dev.onceflow.handler.Handled;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.store.Effect;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * The pipeline's own overhead, measured in one run against its baseline: an in-memory queue drained
 * and acked by a bare Reactor consumer, then the same queue through onceflow without deduplication,
 * with deduplication on the in-memory store, and with a transactional effect. Run: {@code mvn -B -q
 * -pl framework-test test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=dev.onceflow.test.bench.PipelineThroughput [-Dexec.args=200000]}.
 */
public final class PipelineThroughput {

  private PipelineThroughput() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    System.out.printf(
        "messages per run: %,d, concurrency 64, %d cores%n",
        n, Runtime.getRuntime().availableProcessors());
    for (int round = 1; round <= 2; round++) {
      System.out.printf("round %d (round 1 warms up the JIT)%n", round);
      report("baseline: bare consumer, ack each", n, baseline(n));
      report("onceflow, dedup off", n, pipeline(n, false, false));
      report("onceflow, dedup on (in-memory store)", n, pipeline(n, true, false));
      report("onceflow, dedup + transactional effect", n, pipeline(n, true, true));
    }
  }

  private static void report(String what, int n, long nanos) {
    System.out.printf(
        "  %-42s %,10.0f msg/s  (%,.1f µs/msg)%n", what, n / (nanos / 1e9), nanos / 1e3 / n);
  }

  private static InMemorySource fill(int n) {
    InMemorySource q = InMemorySource.create("bench");
    for (int i = 0; i < n; i++) {
      q.publish("m-" + i, "{\"order\":" + i + "}");
    }
    return q.completeWhenDrained();
  }

  private static long baseline(int n) {
    InMemorySource q = fill(n);
    long start = System.nanoTime();
    q.receive().flatMap(d -> d.ack(), 64).then().block(Duration.ofMinutes(5));
    return System.nanoTime() - start;
  }

  private static long pipeline(int n, boolean dedup, boolean effect) {
    InMemorySource q = fill(n);
    InMemoryIdempotencyStore store = InMemoryIdempotencyStore.create();
    var b =
        Onceflow.consume(q)
            .name("bench")
            .deadLetterTo(InMemoryDeadLetters.create())
            .concurrency(64);
    if (dedup) {
      b = b.deduplicate(Dedup.byMessageId(store));
    }
    Pipeline<byte[], Object> p =
        effect
            ? b.handleWithEffects(
                    m -> Mono.just(Handled.of(null, Effect.hincrBy("fx", m.key(), 1))))
                .build()
            : b.handle(m -> Mono.just((Object) "ok")).build();
    long start = System.nanoTime();
    p.outcomes().then().block(Duration.ofMinutes(5));
    long nanos = System.nanoTime() - start;
    if (p.ledger().processed() != n) {
      throw new IllegalStateException("expected " + n + " processed, got " + p.ledger());
    }
    return nanos;
  }
}
