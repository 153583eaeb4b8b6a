package dev.onceflow.examples.cli;

import dev.onceflow.core.Envelope;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.pipeline.Dedup;
import dev.onceflow.pipeline.Onceflow;
import dev.onceflow.pipeline.Pipeline;
import dev.onceflow.pipeline.PipelineBuilder;
import dev.onceflow.store.IdempotencyStore;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One {@code bench} run: publishes the workload to a fresh destination (all of it before consuming,
 * or paced at a rate while consuming), runs an onceflow pipeline over it with a trivial handler
 * that counts the calls per message, and measures.
 *
 * <p>Latency is publish-to-settled: from the time a message was due to be published (the pacer's
 * schedule, so a late publisher counts against it; in backlog mode the time it was handed to the
 * publisher) to the time its outcome was emitted, after its ack. Throughput in backlog mode is the
 * settled deliveries over the time from the first to the last settled one (consumer start-up and
 * group join excluded); at a rate it is the measured deliveries over the time from the first
 * measured one's due time to the last settlement.
 */
final class BenchRun {

  static final String TIME_HEADER = "x-bench-t";

  private static final Mono<Object> OK = Mono.just("ok");

  /** What one run measured. */
  record Result(
      boolean dedup,
      int messages,
      int uniques,
      Ledger ledger,
      long settled,
      double seconds,
      double msgsPerS,
      double publishSeconds,
      Histogram latencyMicros,
      boolean held,
      String check,
      double cpuMicrosPerMessage,
      double heapPeakMb,
      double heapUsedAfterMb,
      long gcCount,
      long gcMillis) {}

  /** How to run. */
  record Settings(
      String runId,
      int concurrency,
      int maxInFlight,
      double rate,
      int warmup,
      Duration inProgressBackoff,
      Duration timeout) {}

  private BenchRun() {}

  /**
   * Runs {@code workload} on {@code destination}; in paced mode the first {@code settings.warmup()}
   * positions are published and consumed but not measured.
   */
  static Result run(
      BenchBroker.Destination destination,
      BenchWorkload workload,
      @Nullable IdempotencyStore store,
      Settings settings)
      throws InterruptedException {
    int total = workload.messages();
    AtomicIntegerArray handled = new AtomicIntegerArray(workload.uniques());
    boolean paced = settings.rate() > 0;
    resetPeaks();
    long gc0 = gcCount();
    long gcMs0 = gcMillis();

    double publishSeconds = 0;
    if (!paced) {
      long t = System.nanoTime();
      destination
          .publishAll(Flux.range(0, total).map(p -> envelope(settings.runId(), workload, p)))
          .block(settings.timeout());
      publishSeconds = (System.nanoTime() - t) / 1e9;
    }

    Pipeline<byte[], Object> pipeline =
        pipeline(destination, store, settings, handled, settings.runId());
    Histogram histogram = new Histogram(TimeUnit.HOURS.toMicros(1), 3);
    AtomicLong settled = new AtomicLong();
    AtomicLong measured = new AtomicLong();
    AtomicLong first = new AtomicLong();
    AtomicLong last = new AtomicLong();
    AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    long start = System.nanoTime();
    long cpu0 = processCpuNanos();
    long measureFrom =
        paced ? start + dueOffset(settings.warmup(), settings.rate()) : Long.MIN_VALUE;
    Disposable running =
        pipeline
            .outcomes()
            .subscribe(
                o -> {
                  if (o instanceof Outcome.Nacked) {
                    return; // delivered again later
                  }
                  long now = System.nanoTime();
                  long due = Long.parseLong(o.envelope().headers().get(TIME_HEADER));
                  if (due >= measureFrom) {
                    histogram.recordValue(Math.max(0, (now - due) / 1000));
                    if (measured.getAndIncrement() == 0) {
                      first.set(paced ? measureFrom : now);
                    }
                    last.set(now);
                  }
                  if (settled.incrementAndGet() == total) {
                    done.countDown();
                  }
                },
                e -> {
                  failure.set(e);
                  done.countDown();
                },
                done::countDown);
    Thread pacer = null;
    if (paced) {
      pacer = pace(destination, workload, settings, start, failure);
    }
    boolean finished = done.await(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
    long cpu = processCpuNanos() - cpu0;
    if (pacer != null) {
      pacer.interrupt();
      pacer.join(10_000);
    }
    try {
      pipeline.stop(Duration.ofSeconds(10)).block(Duration.ofSeconds(40));
    } catch (RuntimeException e) {
      failure.compareAndSet(null, e);
    }
    running.dispose();

    double heapPeak = heapPeakMb();
    long gcs = gcCount() - gc0;
    long gcMs = gcMillis() - gcMs0;
    double seconds = (last.get() - first.get()) / 1e9;
    long n = measured.get();
    double rate = n > 1 && seconds > 0 ? (paced ? n : n - 1) / seconds : 0;
    Ledger ledger = pipeline.ledger();
    String check = check(store != null, workload, handled, ledger, finished, failure.get());
    return new Result(
        store != null,
        total,
        workload.uniques(),
        ledger,
        settled.get(),
        seconds,
        rate,
        publishSeconds,
        histogram,
        check.isEmpty(),
        check.isEmpty() ? "ok" : check,
        cpu / 1e3 / Math.max(1, settled.get()),
        heapPeak,
        heapUsedMb(),
        gcs,
        gcMs);
  }

  private static Pipeline<byte[], Object> pipeline(
      BenchBroker.Destination destination,
      @Nullable IdempotencyStore store,
      Settings settings,
      AtomicIntegerArray handled,
      String name) {
    PipelineBuilder<byte[], Object> b =
        Onceflow.consume(destination.source(settings.maxInFlight()))
            .name(name)
            .deadLetterTo(InMemoryDeadLetters.create())
            .concurrency(settings.concurrency());
    if (store != null) {
      b = b.deduplicate(Dedup.byMessageId(store).inProgressBackoff(settings.inProgressBackoff()));
    }
    return b.handle(
            m -> {
              handled.incrementAndGet(parse(m.payload()));
              return OK;
            })
        .build();
  }

  /** Publishes position p at start + p / rate (open loop: never waits for the consumer). */
  private static Thread pace(
      BenchBroker.Destination destination,
      BenchWorkload workload,
      Settings settings,
      long start,
      AtomicReference<@Nullable Throwable> failure) {
    Thread t =
        new Thread(
            () -> {
              for (int p = 0; p < workload.messages(); p++) {
                long due = start + dueOffset(p, settings.rate());
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                  LockSupport.parkNanos(wait);
                  if (Thread.currentThread().isInterrupted()) {
                    return;
                  }
                }
                destination
                    .publish(envelope(settings.runId(), workload, p, due))
                    .subscribe(null, e -> failure.compareAndSet(null, e));
              }
            },
            "bench-pacer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static long dueOffset(int position, double rate) {
    return (long) (position * 1e9 / rate);
  }

  private static Envelope envelope(String runId, BenchWorkload w, int p) {
    return envelope(runId, w, p, System.nanoTime());
  }

  private static Envelope envelope(String runId, BenchWorkload w, int p, long due) {
    int u = w.at(p);
    return Envelope.builder()
        .messageId(runId + "-" + u)
        .header(TIME_HEADER, Long.toString(due))
        .payload(Integer.toString(u).getBytes(StandardCharsets.US_ASCII))
        .build();
  }

  private static int parse(byte[] digits) {
    int v = 0;
    for (byte d : digits) {
      v = v * 10 + (d - '0');
    }
    return v;
  }

  /**
   * Empty when the run held: with dedup, every message handled exactly once and every duplicate
   * skipped; without, every delivery handled (duplicates too).
   */
  private static String check(
      boolean dedup,
      BenchWorkload w,
      AtomicIntegerArray handled,
      Ledger l,
      boolean finished,
      @Nullable Throwable failure) {
    if (failure != null) {
      return "failed:" + failure.toString().replace(' ', '_');
    }
    if (!finished) {
      return "timed_out";
    }
    long calls = 0;
    int never = 0;
    int twice = 0;
    for (int u = 0; u < handled.length(); u++) {
      int c = handled.get(u);
      calls += c;
      never += c == 0 ? 1 : 0;
      twice += c > 1 ? 1 : 0;
    }
    if (never > 0) {
      return "never_handled=" + never;
    }
    if (l.deadLettered() > 0 || l.inFlight() > 0) {
      return "dead_lettered=" + l.deadLettered() + ",in_flight=" + l.inFlight();
    }
    if (dedup) {
      if (twice > 0 || l.processed() != w.uniques() || l.duplicates() != w.duplicates()) {
        return "handled_more_than_once=" + twice + ",processed=" + l.processed();
      }
    } else if (calls < w.messages()) {
      return "handler_calls=" + calls;
    }
    return "";
  }

  /**
   * The CPU time of this whole process (every thread: the pipeline, the clients' I/O threads, GC,
   * JIT, and an in-JVM broker), or 0 when the JVM does not tell.
   */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /** The sum of the heap pools' peak usage since the run started (an upper bound of the peak). */
  private static double heapPeakMb() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum / 1048576.0;
  }

  /** The heap in use after a full collection: what the run left behind. */
  private static double heapUsedMb() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0;
  }

  private static long gcCount() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  private static long gcMillis() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionTime());
    }
    return n;
  }
}
