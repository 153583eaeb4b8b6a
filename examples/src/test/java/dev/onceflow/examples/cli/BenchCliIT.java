package dev.onceflow.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A smoke test of {@code bench}: small counts, both dedup modes in one process; it checks that the
 * output lines parse and that deduplication held exactly once, not how fast anything was.
 */
class BenchCliIT {

  private static final Pattern KV = Pattern.compile("(\\w+)=(\\S+)");

  @Test
  void memoryBrokerAndStoreBacklogBothModes() {
    Cli.Run run =
        Cli.run(
            "bench",
            "--broker",
            "memory",
            "--messages",
            "3000",
            "--warmup",
            "500",
            "--dedup",
            "both");
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    List<Map<String, String>> runs = lines(run, "bench: ");
    assertThat(runs).as(run.out()).hasSize(2);
    checkRuns(runs, "backlog", "backlog_sojourn_us");
    Map<String, String> ratio = only(run, "bench-ratio: ");
    assertThat(Double.parseDouble(ratio.get("ratio"))).isPositive();
    assertThat(only(run, "bench-end: ")).containsEntry("held", "true");
  }

  @Test
  void kafkaInTheJvmWithTheRedisStoreAtARate() {
    Cli.requireRedis();
    Cli.Run run =
        Cli.run(
            "bench",
            "--broker",
            "kafka",
            "--redis",
            Cli.REDIS,
            "--messages",
            "1500",
            "--warmup",
            "500",
            "--rate",
            "2000",
            "--partitions",
            "2");
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    List<Map<String, String>> runs = lines(run, "bench: ");
    assertThat(runs).as(run.out()).hasSize(2);
    checkRuns(runs, "rate", "publish_to_settled_us");
    assertThat(runs).allSatisfy(r -> assertThat(r).containsEntry("broker", "kafka"));
    assertThat(runs).anySatisfy(r -> assertThat(r).containsEntry("store", "redis"));
    Map<String, String> added = only(run, "bench-added-latency: ");
    for (String key : List.of("p50_us", "p99_us", "p999_us", "max_us")) {
      Long.parseLong(added.get(key)); // a number, possibly negative
    }
    assertThat(added.get("met")).isIn("true", "false");
    assertThat(only(run, "bench-end: ")).containsEntry("held", "true");

    // bench made up its key prefix, so it leaves nothing of it in Redis.
    Map<String, String> cleanup = only(run, "bench-cleanup: ");
    String prefix = cleanup.get("prefix");
    assertThat(prefix).startsWith("onceflow-bench-");
    assertThat(Long.parseLong(cleanup.get("deleted"))).isPositive();
    io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(Cli.REDIS);
    try (var connection = client.connect()) {
      assertThat(connection.sync().keys(prefix + ":*")).isEmpty();
    } finally {
      client.shutdown();
    }
  }

  /** Both runs parsed: numbers where numbers are due; exactly once with dedup, all without. */
  private static void checkRuns(List<Map<String, String>> runs, String mode, String latency) {
    for (Map<String, String> r : runs) {
      assertThat(r).containsEntry("mode", mode).containsEntry("latency", latency);
      assertThat(Double.parseDouble(r.get("msgs_per_s"))).isPositive();
      assertThat(Double.parseDouble(r.get("load1"))).isNotNaN();
      long p50 = Long.parseLong(r.get("p50"));
      long p99 = Long.parseLong(r.get("p99"));
      long p999 = Long.parseLong(r.get("p999"));
      long max = Long.parseLong(r.get("max"));
      assertThat(p50).isLessThanOrEqualTo(p99);
      assertThat(p99).isLessThanOrEqualTo(p999);
      assertThat(p999).isLessThanOrEqualTo(max);
      long messages = Long.parseLong(r.get("messages"));
      long unique = Long.parseLong(r.get("unique"));
      assertThat(unique).isLessThan(messages);
      assertThat(Long.parseLong(r.get("measured"))).isPositive();
      assertThat(r).containsEntry("held", "true").containsEntry("check", "ok");
      assertThat(r).containsEntry("dead", "0");
      if (r.get("dedup").equals("on")) {
        assertThat(r).containsEntry("exactly_once", "true");
        assertThat(Long.parseLong(r.get("processed"))).isEqualTo(unique);
        assertThat(Long.parseLong(r.get("skipped"))).isEqualTo(messages - unique);
      } else {
        assertThat(r).containsEntry("exactly_once", "n/a").containsEntry("store", "none");
        assertThat(Long.parseLong(r.get("processed"))).isEqualTo(messages);
      }
    }
    assertThat(runs).extracting(r -> r.get("dedup")).containsExactlyInAnyOrder("on", "off");
  }

  private static Map<String, String> only(Cli.Run run, String prefix) {
    List<Map<String, String>> found = lines(run, prefix);
    assertThat(found).as("one %s line in:%n%s%n%s", prefix, run.out(), run.err()).hasSize(1);
    return found.get(0);
  }

  private static List<Map<String, String>> lines(Cli.Run run, String prefix) {
    List<Map<String, String>> out = new ArrayList<>();
    for (String line : run.out().split("\n")) {
      if (line.startsWith(prefix)) {
        Map<String, String> m = new LinkedHashMap<>();
        Matcher kv = KV.matcher(line);
        while (kv.find()) {
          m.put(kv.group(1), kv.group(2));
        }
        out.add(m);
      }
    }
    return out;
  }
}
