package dev.onceflow.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.onceflow.chaos.Verdict.Rule;
import dev.onceflow.core.Envelope;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.jar.JarFile;
import org.jspecify.annotations.Nullable;

/**
 * One run of a scenario on one broker: a fresh destination, a test-owned Redis, CLI consumer
 * processes, faults, and at the end the history checker. Every process it starts is stopped in
 * {@link #close()}.
 */
final class ChaosRun implements AutoCloseable {

  static final String PREFIX = "chaos";
  static final Path ROOT = Path.of("target", "chaos");

  /** A consumer process. */
  record Consumer(Process process, String label, Path log, Path out) {
    long pid() {
      return process.pid();
    }
  }

  final String scenario;
  final Brokers.Kind broker;
  final String id;
  final Path dir;
  final Random random;
  final Brokers.Target target;
  final RedisSetup redis;
  final History history = new History();
  final EventTail tail = new EventTail();
  final boolean legacy;
  private final List<Consumer> consumers = new CopyOnWriteArrayList<>();
  private final Set<Consumer> stoppedByUs =
      Collections.newSetFromMap(new java.util.concurrent.ConcurrentHashMap<>());
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final List<String> common = new ArrayList<>();
  private @Nullable Thread supervisor;
  private @Nullable Thread sampler;
  private volatile boolean supervising = true;
  private volatile int keepAlive;
  private volatile IntFunction<List<String>> argsOfNth = n -> List.of();
  private int started;
  Duration lease = Duration.ofSeconds(5);
  History.EffectMode effect = History.EffectMode.TRANSACTIONAL;
  private final long t0 = System.nanoTime();

  private ChaosRun(
      String scenario, Brokers.Kind broker, long seed, boolean sentinel, int waitReplicas) {
    this.scenario = scenario;
    this.broker = broker;
    this.random = new Random(seed);
    this.id = scenario + "-" + broker + "-" + Long.toHexString(System.nanoTime() & 0xffffffL);
    this.dir = ROOT.resolve(id).toAbsolutePath();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      fail("cannot create " + dir, e);
    }
    this.legacy = !cliHasEventLog();
    this.target = Brokers.target(broker, id, 8);
    this.redis = sentinel ? RedisSetup.sentinel(dir, waitReplicas) : RedisSetup.single(dir);
    this.client = redis.client();
    this.connection = client.connect();
    log("run %s: dir %s, CLI %s%s", id, dir, cliJar(), legacy ? " (no event log: legacy)" : "");
    Thread w = new Thread(this::watch, "chaos-watcher");
    w.setDaemon(true);
    supervisor = w;
    w.start();
  }

  static ChaosRun create(String scenario, Brokers.Kind broker, long seed) {
    return new ChaosRun(scenario, broker, seed, false, 0);
  }

  static ChaosRun withSentinel(String scenario, Brokers.Kind broker, long seed, int waitReplicas) {
    return new ChaosRun(scenario, broker, seed, true, waitReplicas);
  }

  static Path cliJar() {
    String p = System.getProperty("chaos.cliJar");
    if (p == null || p.isBlank()) {
      return fail("-Dchaos.cliJar is not set (the failsafe configuration of module chaos sets it)");
    }
    Path jar = Path.of(p);
    if (!Files.isRegularFile(jar)) {
      fail("no CLI jar at " + jar + ": build it with mvn -B -o -pl examples package -DskipTests");
    }
    return jar;
  }

  /** Whether the CLI under test has the event-log hook (an older CLI does not). */
  static boolean cliHasEventLog() {
    try (JarFile jar = new JarFile(cliJar().toFile())) {
      return jar.getEntry("dev/onceflow/examples/cli/EventLog.class") != null;
    } catch (IOException e) {
      return fail("cannot read " + cliJar(), e);
    }
  }

  /** Sets the consumer arguments every consumer of the run gets. */
  ChaosRun consumers(Duration lease, int concurrency, History.EffectMode effect) {
    this.lease = lease;
    this.effect = effect;
    history.lease(lease).effectMode(effect).eventLogs(!legacy);
    common.clear();
    common.addAll(
        List.of(
            "--redis-key-prefix",
            PREFIX,
            "--pipeline",
            id,
            "--lease-seconds",
            Long.toString(lease.toSeconds()),
            "--concurrency",
            Integer.toString(concurrency),
            "--effect",
            effect == History.EffectMode.PLAIN ? "plain" : "transactional",
            "--attempts",
            "3",
            "--progress-seconds",
            "0",
            "--stop-timeout-seconds",
            "10"));
    return this;
  }

  /**
   * Publishes {@code n} messages, {@code poison} with the poison header and {@code malformed} with
   * a malformed header, re-sending a fraction {@code resend} of them (same id), in a seeded order.
   */
  void publish(int n, int poison, int malformed, double resend) {
    List<Envelope> messages = prepare(n, poison, malformed, resend);
    long start = System.nanoTime();
    target.publish(messages);
    log("published %d messages in %s", messages.size(), since(start));
  }

  private List<Envelope> prepare(int n, int poison, int malformed, double resend) {
    List<Envelope> messages = new ArrayList<>();
    int m0 = history.published.size();
    for (int i = m0; i < m0 + n; i++) {
      String mid = id + "-m" + i;
      history.published(mid);
      history.publishedAt(mid, System.nanoTime());
      messages.add(envelope(mid).build());
    }
    int p0 = history.poison.size();
    for (int i = p0; i < p0 + poison; i++) {
      String mid = id + "-p" + i;
      history.poison(mid);
      history.publishedAt(mid, System.nanoTime());
      messages.add(envelope(mid).header("x-poison", "true").build());
    }
    int x0 = history.malformed.size();
    for (int i = x0; i < x0 + malformed; i++) {
      String mid = id + "-x" + i;
      history.malformed(mid);
      history.publishedAt(mid, System.nanoTime());
      messages.add(envelope(mid).header("onceflow-version", "not-a-number").build());
    }
    int distinct = messages.size();
    for (int i = 0; i < distinct; i++) {
      if (random.nextDouble() < resend) {
        messages.add(messages.get(i));
      }
    }
    Collections.shuffle(messages, random);
    history.sentCopies(history.sentCopies + messages.size());
    return messages;
  }

  /**
   * Publishes as {@link #publish} from another thread, so that faults can hit the consumers while
   * the batch arrives; the ids are registered before this returns. Join the thread to wait.
   */
  Thread publishInBackground(int n, int poison, int malformed, double resend) {
    java.util.concurrent.CountDownLatch registered = new java.util.concurrent.CountDownLatch(1);
    List<Envelope> batch = new ArrayList<>();
    Thread t =
        new Thread(
            () -> {
              synchronized (this) {
                batch.addAll(prepare(n, poison, malformed, resend));
              }
              registered.countDown();
              long start = System.nanoTime();
              target.publish(batch);
              log("published %d messages in %s (in the background)", batch.size(), since(start));
            },
            "chaos-publisher");
    t.setDaemon(true);
    t.start();
    try {
      registered.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return t;
  }

  private Envelope.Builder envelope(String mid) {
    return Envelope.builder()
        .messageId(mid)
        .payload(("{\"id\":\"" + mid + "\"}").getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Starts a consumer with the run's arguments plus {@code extra}, and waits until it is connected
   * (its event log's start line, written once the store is open), so that consumers started
   * together do not starve each other's start on a small machine.
   */
  synchronized Consumer start(List<String> extra) {
    String label = "c" + (++started);
    Path log = dir.resolve(label + ".events");
    Path out = dir.resolve(label + ".out");
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xmx256m"));
    // Extra JVM options for every consumer, e.g. a logback configuration while investigating.
    String jvmArgs = System.getProperty("chaos.consumerJvmArgs", "").trim();
    if (!jvmArgs.isEmpty()) {
      cmd.addAll(List.of(jvmArgs.split("\\s+")));
    }
    cmd.addAll(List.of("-jar", cliJar().toString(), "consume"));
    cmd.addAll(target.consumeArgs());
    cmd.addAll(redis.cliArgs());
    cmd.addAll(common);
    if (!legacy) {
      cmd.addAll(List.of("--event-log", log.toString()));
      tail.follow(log);
    }
    cmd.addAll(extra);
    Process p =
        Procs.start(
            new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(new File("/dev/null")));
    Consumer c = new Consumer(p, label, log, out);
    consumers.add(c);
    if (!legacy
        && !Procs.poll(Duration.ofSeconds(60), () -> !p.isAlive() || log.toFile().length() > 0)) {
      log("WARNING: %s pid %d wrote no start line in 60 s", label, p.pid());
    }
    log("started %s pid %d %s", label, p.pid(), String.join(" ", extra));
    return c;
  }

  Consumer start(String... extra) {
    return start(List.of(extra));
  }

  List<Consumer> live() {
    return consumers.stream().filter(c -> c.process().isAlive()).toList();
  }

  /**
   * Keeps {@code count} consumers running: whenever one exits on its own (a crash point), a
   * replacement starts with {@code argsOfNth.apply(n)} (n counts the replacements from 1).
   */
  void supervise(int count, IntFunction<List<String>> argsOfNth) {
    this.argsOfNth = argsOfNth;
    this.keepAlive = count;
  }

  /** Watches the consumers: records crashes as faults and starts replacements (see supervise). */
  private void watch() {
    int replacements = 0;
    while (supervising) {
      for (Consumer c : consumers) {
        if (!c.process().isAlive() && !stoppedByUs.contains(c) && stoppedByUs.add(c)) {
          crashed(c);
        }
      }
      if (supervising && live().size() < keepAlive) {
        start(argsOfNth.apply(++replacements));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void crashed(Consumer c) {
    tail.readAll();
    Event crash = tail.crashOf(c.pid());
    if (crash == null && c.process().exitValue() != 137) {
      log(
          "WARNING: %s pid %d exited with %d (see %s)",
          c.label(), c.pid(), c.process().exitValue(), c.out());
      return;
    }
    long at = crash != null ? crash.t() : System.nanoTime();
    history.fault(new Fault(Fault.Kind.CRASH_POINT, at, at, c.pid(), processFaultBound()));
    log(
        "%s pid %d exited (%s)%s",
        c.label(),
        c.pid(),
        c.process().exitValue(),
        crash != null ? " at crash point " + crash.detail() + " on " + crash.id() : "");
  }

  /** SIGKILLs a consumer (recorded as a KILL fault). */
  void kill(Consumer c) {
    stoppedByUs.add(c);
    long at = System.nanoTime();
    Procs.kill(c.process());
    history.fault(new Fault(Fault.Kind.KILL, at, at, c.pid(), processFaultBound()));
    log("SIGKILL %s pid %d", c.label(), c.pid());
  }

  /**
   * Stops a consumer gracefully (SIGTERM: it finishes what it holds within its stop timeout and
   * leaves); not a fault. Waits up to 40 s for it to exit.
   */
  void stop(Consumer c) {
    stoppedByUs.add(c);
    c.process().destroy();
    try {
      if (!c.process().waitFor(40, TimeUnit.SECONDS)) {
        log("WARNING: %s pid %d did not stop in 40 s after SIGTERM", c.label(), c.pid());
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    log("stopped %s pid %d (SIGTERM, exit %d)", c.label(), c.pid(), c.process().exitValue());
  }

  /** SIGKILLs a random live consumer that has got to work (its event log has grown). */
  void killRandom() {
    List<Consumer> working = new ArrayList<>();
    Procs.poll(
        Duration.ofSeconds(30),
        () -> {
          working.clear();
          for (Consumer c : live()) {
            if (legacy || tail.working(c.pid())) {
              working.add(c);
            }
          }
          return !working.isEmpty();
        });
    if (!working.isEmpty()) {
      kill(working.get(random.nextInt(working.size())));
    }
  }

  /**
   * Waits until each consumer acquired a key, or everything completed (logs a warning and goes on
   * after {@code max}).
   */
  void awaitWorking(List<Consumer> cs, Duration max) {
    int all = history.allIds().size();
    if (!Procs.poll(
        max,
        () -> cs.stream().allMatch(c -> legacy || tail.working(c.pid())) || completed() >= all)) {
      log("WARNING: not every consumer got work within %s", max);
    }
  }

  /**
   * Waits until {@code count} faults were recorded (crash points fire on their own); logs a warning
   * and goes on when some did not fire in time (a consumer that got no work cannot crash).
   */
  void awaitFaults(int count, Duration max) {
    if (!Procs.poll(max, () -> history.faults().size() >= count)) {
      log("WARNING: only %d of %d faults fired within %s", history.faults().size(), count, max);
    }
  }

  /**
   * How long the work of a killed consumer may take to move on: its leases expire, the broker
   * redelivers (Kafka: session timeout and rebalance; SQS: visibility timeout), plus slack for a
   * loaded machine; in long mode, the backlog ahead of a redelivered message as well.
   */
  Duration processFaultBound() {
    // Long mode: SQS makes a message whose visibility expired available behind the backlog, so a
    // killed consumer's keys wait for thousands of queued messages (186 s observed with 5,000).
    return Mode.isLong() ? Duration.ofMinutes(10) : lease.plusSeconds(60);
  }

  /** Pauses Redis (SIGSTOP) for {@code d}, then resumes it; bound: half the lease. */
  void pauseRedis(Duration d) {
    long start = System.nanoTime();
    redis.primary.pause();
    log("Redis paused (SIGSTOP) for %s", d);
    Procs.sleep(d);
    redis.primary.resume();
    long end = System.nanoTime();
    history.fault(new Fault(Fault.Kind.REDIS_PAUSE, start, end, -1, lease.dividedBy(2)));
    log("Redis resumed (SIGCONT)");
  }

  /** Kills Redis (SIGKILL), waits {@code down}, restarts it from its AOF. */
  void restartRedis(Duration down) {
    long start = System.nanoTime();
    redis.primary.kill();
    log("Redis killed (SIGKILL), down for %s", down);
    Procs.sleep(down);
    redis.primary.start();
    long end = System.nanoTime();
    history.fault(new Fault(Fault.Kind.REDIS_RESTART, start, end, -1, lease.plusSeconds(30)));
    log("Redis restarted from its AOF");
  }

  /** Kills the primary; returns once Sentinel names the replica as the new primary. */
  Duration failover() {
    OwnedRedis replica = java.util.Objects.requireNonNull(redis.replica);
    long start = System.nanoTime();
    redis.primary.kill();
    log("Redis primary killed (SIGKILL); waiting for Sentinel to promote the replica");
    Procs.await(
        "Sentinel to promote the replica",
        Duration.ofSeconds(60),
        () -> redis.currentPrimaryPort() == replica.port);
    long end = System.nanoTime();
    history.fault(new Fault(Fault.Kind.FAILOVER, start, end, -1, lease.plusSeconds(30)));
    log("failover done in %s", since(start));
    return Duration.ofNanos(end - start);
  }

  /** Completed ids so far (event logs; for a legacy CLI, ids with an effect). */
  long completed() {
    if (legacy) {
      try {
        return connection.sync().hlen(effectsKey());
      } catch (RuntimeException e) {
        return 0;
      }
    }
    return tail.completedCount();
  }

  /** Waits until {@code fraction} of the ids completed. */
  void awaitProgress(double fraction, Duration max) {
    long want = (long) Math.ceil(history.allIds().size() * fraction);
    Procs.await("" + want + " completed ids", max, () -> completed() >= want);
  }

  /** Waits until every id completed, or {@code max} passed (the checker then reports them). */
  boolean awaitAll(Duration max) {
    int all = legacy ? history.published.size() : history.allIds().size();
    boolean done = Procs.poll(max, () -> completed() >= all && allCompleted());
    log(
        "%s after %s (%d of %d)",
        done ? "all completed" : "NOT all completed", since(t0), completed(), all);
    if (!done) {
      String diagnosis = target.diagnose(id);
      if (!diagnosis.isEmpty()) {
        log("%s", diagnosis);
      }
    }
    return done;
  }

  private boolean allCompleted() {
    if (legacy) {
      return true;
    }
    for (String i : history.allIds()) {
      if (!tail.completed(i)) {
        return false;
      }
    }
    return true;
  }

  /** For a CLI without event logs: samples the effects hash every 100 ms for completion times. */
  void sampleCompletions() {
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                sample();
                try {
                  Thread.sleep(100);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "chaos-sampler");
    t.setDaemon(true);
    sampler = t;
    t.start();
  }

  private void sample() {
    try {
      long now = System.nanoTime();
      for (String f : connection.sync().hkeys(effectsKey())) {
        synchronized (history) {
          history.completionSample(f, now);
        }
      }
    } catch (RuntimeException e) {
      // Redis paused or down: try again
    }
  }

  String effectsKey() {
    return PREFIX + ":" + id + ":effects";
  }

  /**
   * Stops the consumers (SIGTERM, graceful), reads the dead letters, the leftovers and the effects,
   * runs the checker, appends the figures to {@code target/chaos/results.md}, and asserts that
   * every rule held except {@code tolerated}.
   */
  Verdict finish(String command, Set<Rule> tolerated) {
    supervising = false;
    if (supervisor != null) {
      supervisor.interrupt();
      joinQuietly(supervisor);
    }
    if (sampler != null) {
      sampler.interrupt();
      joinQuietly(sampler);
      sample();
    }
    for (Consumer c : consumers) {
      stoppedByUs.add(c);
      c.process().destroy();
    }
    for (Consumer c : consumers) {
      try {
        if (!c.process().waitFor(40, TimeUnit.SECONDS)) {
          log("%s pid %d did not stop in 40 s after SIGTERM: SIGKILL", c.label(), c.pid());
          c.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    tail.readAll();
    history.events(tail.events());
    int expectedDead = history.poison.size() + history.malformed.size();
    target.deadLetters(expectedDead, Duration.ofSeconds(5)).forEach(history::deadLetter);
    long leftovers = target.leftovers(id);
    Map<String, String> effects = connection.sync().hgetall(effectsKey());
    effects.forEach((k, v) -> history.effect(k, Long.parseLong(v)));
    if (legacy && effect == History.EffectMode.TRANSACTIONAL) {
      // a transactional effect is committed with its record: the store's evidence of completion
      effects.keySet().forEach(history::recordedInStore);
    }
    Verdict v = Checker.check(history);
    Results.append(this, v, leftovers, command, tolerated);
    log("verdict of %s (leftovers on the source: %d):%n%s", id, leftovers, v.report());
    assertThat(v.passed(tolerated)).as("chaos run %s:%n%s", id, v.report()).isTrue();
    for (Verdict.Recovery r : v.recoveries()) {
      if (r.fault().kind().hitsStore()) {
        assertThat(r.keys())
            .as("%s of run %s interrupted no delivery: it hit an idle system", r.fault().kind(), id)
            .isPositive();
      }
    }
    return v;
  }

  /** Waits for a background publisher (up to 5 minutes). */
  static void join(Thread t) {
    try {
      t.join(300_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) {
      fail("the background publisher did not finish in 5 minutes");
    }
  }

  private static void joinQuietly(Thread t) {
    try {
      t.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String since(long start) {
    return String.format("%.1fs", (System.nanoTime() - start) / 1e9);
  }

  void log(String format, Object... args) {
    String line =
        String.format("[chaos %s +%s] ", id, since(t0)) + String.format(format, args) + "\n";
    System.out.print(line);
    try {
      Files.writeString(
          dir.resolve("run.log"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException ignored) {
      // the console has it
    }
  }

  @Override
  public void close() {
    supervising = false;
    for (Consumer c : consumers) {
      c.process().destroyForcibly();
    }
    tail.close();
    try {
      connection.close();
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    } catch (RuntimeException ignored) {
      // going away
    }
    redis.close();
    target.close();
  }
}
