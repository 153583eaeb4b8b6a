package dev.onceflow.chaos;

import dev.onceflow.chaos.History.EffectMode;
import dev.onceflow.chaos.Verdict.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The scenarios. Each runs on one broker, returns the checker's verdict, and records its figures
 * (see {@link Results}). Faults are combined within a run so that short mode stays within a few
 * minutes: crash points, 1, 2 and 8 consumers, slow handlers and a random SIGKILL in one run; a
 * Redis pause and then a Redis restart in another; a Sentinel failover without and with WAIT.
 */
final class Scenarios {

  /** Rules a Sentinel failover may break (measured, not enforced): Redis replicates async. */
  static final Set<Rule> FAILOVER_MEASURED =
      Set.of(
          Rule.TWO_COMPLETIONS,
          Rule.STALE_FENCE,
          Rule.TRANSACTIONAL_NOT_ONCE,
          Rule.PLAIN_OVER_BOUND,
          Rule.LOST);

  private Scenarios() {}

  static String command(String itClass) {
    return Mode.isLong()
        ? "mvn -B -o verify -pl chaos -Dit.test=ChaosSoakIT -Dchaos.mode=long -Dchaos.minutes="
            + Mode.minutes().toMinutes()
            + " -Dchaos.forkTimeout=14400"
        : "mvn -B -o verify -pl chaos -Dit.test=" + itClass;
  }

  private static List<String> args(String... a) {
    return new ArrayList<>(List.of(a));
  }

  /**
   * Consumer processes: crash points, a random SIGKILL, 1, 2 and 8 consumers at once, and handlers
   * slower than the lease, in one run (short mode fits in minutes that way). One consumer alone
   * halts itself before the handler; then two at once halt after the handler (before the record)
   * and after the record (before the ack); their replacements run on, six more join (two with
   * handlers of 3 s against a 2 s lease: heartbeats must keep those leases, so a re-run without a
   * kill is a violation), and once all eight work a random one is SIGKILLed; then the two slow ones
   * are stopped gracefully (SIGTERM) and the rest drain the backlog.
   */
  static Verdict processes(Brokers.Kind broker, EffectMode effect, int round) {
    try (ChaosRun run =
        ChaosRun.create("processes", broker, Mode.seed("processes", broker, round))) {
      run.consumers(Duration.ofSeconds(2), 2, effect);
      run.history.leaseExpiryIsAFault(false);
      int n = Mode.count(700, 6_000);
      run.publish(n, Mode.count(5, 20), Mode.count(3, 10), 0.1);
      String crashAfter = Integer.toString(Mode.count(20, 200));
      String delay = "200";
      run.start(
          "--handler-delay-ms", delay, "--crash-at", "before-handler", "--crash-after", crashAfter);
      run.awaitFaults(1, Duration.ofMinutes(Mode.count(1, 5)));
      run.log("1 consumer: crashed before the handler");
      run.supervise(
          2,
          nth ->
              switch (nth) {
                case 1 ->
                    args(
                        "--handler-delay-ms",
                        delay,
                        "--crash-at",
                        "after-handler",
                        "--crash-after",
                        crashAfter);
                case 2 ->
                    args(
                        "--handler-delay-ms",
                        delay,
                        "--crash-at",
                        "after-record",
                        "--crash-after",
                        crashAfter);
                default -> args("--handler-delay-ms", delay);
              });
      run.awaitFaults(3, Duration.ofMinutes(Mode.count(1, 5)));
      run.log("2 consumers at once: crashed after the handler and after the record");
      Procs.await("two replacements", Duration.ofMinutes(1), () -> run.live().size() >= 2);
      List<ChaosRun.Consumer> all = new ArrayList<>(run.live());
      List<ChaosRun.Consumer> slow = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        ChaosRun.Consumer c = run.start("--handler-delay-ms", i < 2 ? "3000" : delay);
        all.add(c);
        if (i < 2) {
          slow.add(c);
        }
      }
      run.awaitWorking(all, Duration.ofSeconds(45));
      run.log("%d consumers at once", run.live().size());
      run.killRandom();
      // A Kafka partition's records go to its owner only: a consumer at 2 handlers x 3 s would
      // take minutes to drain the partition it holds (the others cannot help), so the slow ones
      // are scaled down, gracefully, and their partitions move to the rest.
      for (ChaosRun.Consumer c : slow) {
        if (c.process().isAlive()) {
          run.stop(c);
        }
      }
      run.awaitAll(Duration.ofMinutes(Mode.count(3, 10)));
      return run.finish(command("ProcessChaosIT"), Set.of());
    }
  }

  /**
   * Redis paused (SIGSTOP) for 5 s, past the 2 s command timeout, with 2 consumers and 64
   * deliveries in flight each; every key must complete within half the lease (40 s) after Redis
   * answers again: keys whose timed-out acquisitions left leases on Redis would wait the whole
   * lease (the stranded-lease defect). Then a second batch, and Redis killed (SIGKILL) and
   * restarted from its AOF.
   */
  static Verdict redisFaults(Brokers.Kind broker, EffectMode effect, int round) {
    try (ChaosRun run = ChaosRun.create("redis", broker, Mode.seed("redis", broker, round))) {
      run.consumers(Duration.ofSeconds(40), 64, effect);
      boolean legacy = run.legacy;
      int n = Mode.count(500, 5_000);
      if (legacy) {
        run.sampleCompletions();
      }
      run.start("--handler-delay-ms", "10");
      run.start("--handler-delay-ms", "10");
      // Published while both consumers run, so that the pause hits deliveries in flight.
      Thread first =
          run.publishInBackground(
              n, legacy ? 0 : Mode.count(5, 20), legacy ? 0 : Mode.count(3, 10), 0.05);
      run.awaitProgress(0.25, Duration.ofMinutes(3));
      run.pauseRedis(Duration.ofSeconds(5));
      ChaosRun.join(first);
      run.awaitAll(Duration.ofSeconds(120));
      Thread publishing = run.publishInBackground(n, legacy ? 0 : Mode.count(5, 20), 0, 0.05);
      run.awaitProgress(0.6, Duration.ofMinutes(3));
      run.restartRedis(Duration.ofSeconds(1));
      ChaosRun.join(publishing);
      run.awaitAll(Duration.ofMinutes(Mode.count(2, 10)));
      return run.finish(command("RedisFaultChaosIT"), Set.of());
    }
  }

  /**
   * Sentinel failover under load: the primary is SIGKILLed at 40% progress, Sentinel promotes the
   * replica, the old primary comes back as a replica. Records lost and effects doubled or lost are
   * measured, not enforced; with {@code waitReplicas} 1 every completion waits for the replica
   * (WAIT 1, 1 s).
   */
  static Verdict sentinelFailover(Brokers.Kind broker, int waitReplicas, int round) {
    String name = waitReplicas > 0 ? "failover-wait" : "failover";
    try (ChaosRun run =
        ChaosRun.withSentinel(name, broker, Mode.seed(name, broker, round), waitReplicas)) {
      run.consumers(Duration.ofSeconds(10), 64, EffectMode.TRANSACTIONAL);
      int n = Mode.count(3_000, 10_000);
      run.start("--handler-delay-ms", "5");
      run.start("--handler-delay-ms", "5");
      long start = System.nanoTime();
      long before = run.completed();
      Thread publishing = run.publishInBackground(n, Mode.count(4, 20), Mode.count(2, 10), 0.05);
      run.awaitProgress(0.4, Duration.ofMinutes(3));
      double seconds = (System.nanoTime() - start) / 1e9;
      run.log(
          "before the failover: %.0f completions/s with two consumers (WAIT %d)",
          (run.completed() - before) / seconds, waitReplicas);
      run.failover();
      run.redis.primary.start();
      ChaosRun.join(publishing);
      run.awaitAll(Duration.ofMinutes(Mode.count(2, 10)));
      run.log("drained %d messages in %s (WAIT %d)", n, ChaosRun.since(start), waitReplicas);
      return run.finish(command("SentinelFailoverChaosIT"), FAILOVER_MEASURED);
    }
  }
}
