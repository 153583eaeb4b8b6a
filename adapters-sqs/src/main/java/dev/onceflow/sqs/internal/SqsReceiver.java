package dev.onceflow.sqs.internal;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.HeaderConvention;
import dev.onceflow.sqs.SqsOperationException;
import dev.onceflow.sqs.SqsSourceOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequest;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchResponse;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueUrlRequest;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * The receive loop of one subscription of an {@code SqsSource}: demand accounting, receives, the
 * visibility heartbeat and settlement. Thread-safe; every call into SQS is asynchronous.
 */
public final class SqsReceiver {

  private static final Logger log = LoggerFactory.getLogger(SqsReceiver.class);
  private static final int MAX_PER_RECEIVE = 10;
  private static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final long MIN_TICK_MS = 50;

  private final SqsSourceOptions options;
  private final SqsAsyncClient client;
  private final String queueName;
  private final FluxSink<Delivery> sink;
  private final List<String> messageAttributeNames;
  private final List<MessageSystemAttributeName> systemAttributeNames;
  private final int visibilitySeconds;

  private final Object lock = new Object();
  private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
  private volatile @Nullable String queueUrl;
  private volatile @Nullable DeleteBatcher deleter;
  private @Nullable Disposable heartbeat;
  private @Nullable Disposable backoff;
  private int receivesInFlight;
  private long asked;
  private long toEmit;
  private int unsettled;
  private int failures;
  private boolean cancelled;

  /** One unsettled delivery, for the heartbeat. */
  private static final class Tracked {
    final String receiptHandle;
    final String messageId;
    volatile long lastExtendedMillis;
    volatile CompletableFuture<?> extension = CompletableFuture.completedFuture(null);

    Tracked(String receiptHandle, String messageId, long now) {
      this.receiptHandle = receiptHandle;
      this.messageId = messageId;
      this.lastExtendedMillis = now;
    }
  }

  public SqsReceiver(SqsSourceOptions options, String queueName, FluxSink<Delivery> sink) {
    this.options = options;
    this.client = options.client();
    this.queueName = queueName;
    this.sink = sink;
    this.messageAttributeNames = messageAttributeNames(options);
    List<MessageSystemAttributeName> system = new ArrayList<>();
    system.add(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT);
    system.add(MessageSystemAttributeName.MESSAGE_GROUP_ID);
    for (MessageSystemAttributeName n : options.systemAttributeNames()) {
      if (!system.contains(n)) {
        system.add(n);
      }
    }
    this.systemAttributeNames = List.copyOf(system);
    this.visibilitySeconds = SqsMessages.visibilitySeconds(options.visibilityTimeout());
  }

  /**
   * The attribute names a receive asks for: the user's, plus those the source needs (convention, id
   * header, CloudEvents ids, packing) unless the user's already ask for all.
   */
  static List<String> messageAttributeNames(SqsSourceOptions options) {
    List<String> asked = options.messageAttributeNames();
    if (asked.stream().anyMatch(n -> n.equalsIgnoreCase("All") || n.equals(".*"))) {
      return asked;
    }
    Set<String> names = new LinkedHashSet<>(asked);
    names.addAll(HeaderConvention.ALL);
    names.add(SqsCodec.PACKED_HEADERS);
    names.add(SqsCodec.BODY_ENCODING);
    String idHeader = options.idHeader();
    if (idHeader != null) {
      names.add(idHeader);
    }
    names.addAll(HeaderConvention.CLOUDEVENTS_ID_HEADERS);
    names.removeIf(n -> !SqsMessages.validAttributeName(n));
    return List.copyOf(names);
  }

  /** Starts receiving: looks the queue URL up if needed, then receives on demand. */
  public void start() {
    sink.onRequest(n -> drain());
    sink.onDispose(this::cancel);
    String url = options.queueUrl();
    if (url != null) {
      ready(url);
      return;
    }
    CompletableFuture<String> lookup;
    try {
      lookup =
          client
              .getQueueUrl(GetQueueUrlRequest.builder().queueName(queueName).build())
              .thenApply(r -> r.queueUrl());
    } catch (RuntimeException e) {
      lookup = CompletableFuture.failedFuture(e);
    }
    lookup.whenComplete(
        (u, error) -> {
          if (error != null) {
            Throwable cause = SqsErrors.unwrap(error);
            if (!cancelled()) {
              sink.error(
                  SqsErrors.failure(SqsOperationException.GET_QUEUE_URL, queueName, null, cause));
            }
            return;
          }
          ready(u);
        });
  }

  private void ready(String url) {
    synchronized (lock) {
      if (cancelled) {
        return;
      }
      queueUrl = url;
      deleter =
          new DeleteBatcher(
              client,
              url,
              queueName,
              options.deleteBatchSize(),
              options.deleteInterval(),
              options.deleteAttempts(),
              options.scheduler());
      long vtMs = visibilitySeconds * 1000L;
      double f = options.heartbeatFraction();
      long tick = Math.max(MIN_TICK_MS, (long) (vtMs * Math.min(f, 1 - f) / 2));
      heartbeat =
          options.scheduler().schedulePeriodically(this::beat, tick, tick, TimeUnit.MILLISECONDS);
    }
    drain();
  }

  /** Starts the receives that demand, room and the concurrency bound allow. */
  private void drain() {
    List<Integer> toStart = new ArrayList<>(2);
    synchronized (lock) {
      if (cancelled || queueUrl == null || backoff != null) {
        return;
      }
      long demand = sink.requestedFromDownstream();
      while (receivesInFlight < options.maxConcurrentReceives()) {
        long uncovered = demand - asked - toEmit;
        long room = (long) options.maxInFlight() - unsettled - asked;
        int n = (int) Math.min(MAX_PER_RECEIVE, Math.min(uncovered, room));
        if (n <= 0) {
          break;
        }
        asked += n;
        receivesInFlight++;
        toStart.add(n);
      }
    }
    for (int n : toStart) {
      receive(n);
    }
  }

  private void receive(int n) {
    String url = queueUrl;
    ReceiveMessageRequest request =
        ReceiveMessageRequest.builder()
            .queueUrl(url)
            .maxNumberOfMessages(n)
            .waitTimeSeconds((int) options.waitTime().toSeconds())
            .visibilityTimeout(visibilitySeconds)
            .messageAttributeNames(messageAttributeNames)
            .messageSystemAttributeNames(systemAttributeNames)
            .build();
    // The visibility clock of what this receive brings back starts at SQS, before the answer
    // arrives: count from the request, so that the heartbeat is early rather than late.
    long requestedAt = options.scheduler().now(TimeUnit.MILLISECONDS);
    call(() -> client.receiveMessage(request))
        .whenComplete((response, error) -> received(n, requestedAt, response, error));
  }

  private void received(
      int n,
      long requestedAt,
      @Nullable ReceiveMessageResponse response,
      @Nullable Throwable error) {
    List<Message> messages = response == null ? List.of() : response.messages();
    boolean late;
    Throwable fatal = null;
    synchronized (lock) {
      receivesInFlight--;
      asked -= n;
      late = cancelled;
      if (!late) {
        if (error != null) {
          Throwable cause = SqsErrors.unwrap(error);
          if (SqsErrors.isSenderFault(cause)) {
            fatal = cause;
            cancelled = true;
          } else {
            fatal = scheduleBackoff(cause);
            cancelled = fatal != null;
          }
        } else {
          failures = 0;
          unsettled += messages.size();
          toEmit += messages.size();
        }
      }
    }
    if (late) {
      release(messages);
      return;
    }
    if (fatal != null) {
      sink.error(SqsErrors.failure(SqsOperationException.RECEIVE, queueName, null, fatal));
      return;
    }
    for (int i = 0; i < messages.size(); i++) {
      if (sink.isCancelled()) {
        // Cancelled while this answer was on its way: nobody will see the rest.
        release(messages.subList(i, messages.size()));
        break;
      }
      sink.next(delivery(messages.get(i), requestedAt));
      synchronized (lock) {
        toEmit--;
      }
    }
    drain();
  }

  private Delivery delivery(Message m, long now) {
    Envelope envelope =
        SqsMessages.toEnvelope(m, queueName, options.systemAttributeNames(), options.idHeader());
    Tracked t = new Tracked(m.receiptHandle(), m.messageId(), now);
    tracked.put(m.receiptHandle(), t);
    DeleteBatcher d = deleter;
    return Delivery.of(
        envelope,
        () -> settle(t).then(d.delete(t.receiptHandle, t.messageId)),
        delay -> settle(t).then(changeVisibility(t, delay)));
  }

  /**
   * Stops tracking a delivery (the heartbeat forgets it, its room is freed) and waits for an
   * extension in flight, so that the settlement lands after it.
   */
  private Mono<Void> settle(Tracked t) {
    return Mono.defer(
        () -> {
          if (tracked.remove(t.receiptHandle, t)) {
            synchronized (lock) {
              unsettled--;
            }
            drain();
          }
          return Mono.fromFuture(t.extension, false).onErrorResume(e -> Mono.empty()).then();
        });
  }

  private Mono<Void> changeVisibility(Tracked t, Duration delay) {
    int seconds = SqsMessages.visibilitySeconds(delay);
    return Mono.fromFuture(
            () ->
                call(
                    () ->
                        client.changeMessageVisibility(
                            ChangeMessageVisibilityRequest.builder()
                                .queueUrl(queueUrl)
                                .receiptHandle(t.receiptHandle)
                                .visibilityTimeout(seconds)
                                .build())))
        .onErrorMap(
            e ->
                SqsErrors.failure(
                    SqsOperationException.CHANGE_VISIBILITY, queueName, t.messageId, e))
        .then();
  }

  /** One heartbeat: extends the visibility of the deliveries that are due. */
  private void beat() {
    long now = options.scheduler().now(TimeUnit.MILLISECONDS);
    long threshold = (long) (visibilitySeconds * 1000L * options.heartbeatFraction());
    List<Tracked> due = new ArrayList<>();
    for (Tracked t : tracked.values()) {
      if (now - t.lastExtendedMillis >= threshold && t.extension.isDone()) {
        due.add(t);
      }
    }
    for (int i = 0; i < due.size(); i += 10) {
      extend(due.subList(i, Math.min(due.size(), i + 10)), now);
    }
  }

  private void extend(List<Tracked> batch, long now) {
    List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      entries.add(
          ChangeMessageVisibilityBatchRequestEntry.builder()
              .id(Integer.toString(i))
              .receiptHandle(batch.get(i).receiptHandle)
              .visibilityTimeout(visibilitySeconds)
              .build());
    }
    CompletableFuture<ChangeMessageVisibilityBatchResponse> call =
        call(
            () ->
                client.changeMessageVisibilityBatch(
                    ChangeMessageVisibilityBatchRequest.builder()
                        .queueUrl(queueUrl)
                        .entries(entries)
                        .build()));
    for (Tracked t : batch) {
      t.lastExtendedMillis = now;
      t.extension = call;
    }
    call.whenComplete(
        (response, error) -> {
          if (error != null) {
            log.warn(
                "SQS visibility heartbeat of {} message(s) on '{}' failed: {}",
                batch.size(),
                queueName,
                SqsErrors.describe(SqsErrors.unwrap(error)));
            return;
          }
          for (BatchResultErrorEntry failed : response.failed()) {
            Tracked t = batch.get(Integer.parseInt(failed.id()));
            if (tracked.get(t.receiptHandle) == t) {
              log.warn(
                  "SQS visibility heartbeat of message {} on '{}' failed ({}): {}; it may be"
                      + " delivered again",
                  t.messageId,
                  queueName,
                  failed.code(),
                  failed.message());
            }
          }
        });
  }

  /** Hands messages nobody will see back to the queue at once; best effort. */
  private void release(List<Message> messages) {
    if (messages.isEmpty() || queueUrl == null) {
      return;
    }
    for (int i = 0; i < messages.size(); i += 10) {
      List<Message> part = messages.subList(i, Math.min(messages.size(), i + 10));
      List<ChangeMessageVisibilityBatchRequestEntry> entries = new ArrayList<>(part.size());
      for (int j = 0; j < part.size(); j++) {
        entries.add(
            ChangeMessageVisibilityBatchRequestEntry.builder()
                .id(Integer.toString(j))
                .receiptHandle(part.get(j).receiptHandle())
                .visibilityTimeout(0)
                .build());
      }
      call(() ->
              client.changeMessageVisibilityBatch(
                  ChangeMessageVisibilityBatchRequest.builder()
                      .queueUrl(queueUrl)
                      .entries(entries)
                      .build()))
          .whenComplete(
              (r, e) -> {
                if (e != null) {
                  log.debug(
                      "releasing {} late message(s) on '{}' failed; they reappear when their"
                          + " visibility expires",
                      part.size(),
                      queueName,
                      e);
                }
              });
    }
  }

  /** Backs off after a transient receive error; returns an error if it cannot. Under the lock. */
  private @Nullable Throwable scheduleBackoff(Throwable cause) {
    failures++;
    if (backoff != null) {
      return null;
    }
    long ms =
        Math.min(
            MAX_BACKOFF.toMillis(), MIN_BACKOFF.toMillis() * (1L << Math.min(failures - 1, 10)));
    log.warn(
        "SQS receive on '{}' failed ({} in a row), retrying in {} ms: {}",
        queueName,
        failures,
        ms,
        SqsErrors.describe(cause));
    try {
      backoff =
          options
              .scheduler()
              .schedule(
                  () -> {
                    synchronized (lock) {
                      backoff = null;
                    }
                    drain();
                  },
                  ms,
                  TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException rejected) {
      // No timer, no retry: end the stream rather than hang.
      return rejected;
    }
    return null;
  }

  private boolean cancelled() {
    synchronized (lock) {
      return cancelled;
    }
  }

  /**
   * Stops receiving. Receives in flight are not aborted (aborting an SDK call can close a pooled
   * connection another call is using): they end within the wait time, and what they bring back is
   * made visible again at once.
   */
  private void cancel() {
    synchronized (lock) {
      if (cancelled && heartbeat == null) {
        return;
      }
      cancelled = true;
      if (heartbeat != null) {
        heartbeat.dispose();
        heartbeat = null;
      }
      if (backoff != null) {
        backoff.dispose();
        backoff = null;
      }
    }
    tracked.clear();
  }

  private static <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
