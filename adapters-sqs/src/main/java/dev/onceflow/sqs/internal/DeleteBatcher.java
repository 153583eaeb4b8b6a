package dev.onceflow.sqs.internal;

import dev.onceflow.sqs.SqsOperationException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchResultEntry;

/**
 * Batches deletes into {@code DeleteMessageBatch} calls: a batch leaves when it is full or when its
 * oldest entry has waited the interval. An entry that fails (the whole call or its own line of a
 * partial failure) is retried after a short backoff, up to the attempts; its {@code Mono} errors
 * only when it failed for good. Thread-safe. Timers are one-shot and exist only while entries wait,
 * so nothing lingers once the last delete is answered.
 */
public final class DeleteBatcher {

  private static final Logger log = LoggerFactory.getLogger(DeleteBatcher.class);
  private static final Duration RETRY_BACKOFF = Duration.ofMillis(100);

  private final SqsAsyncClient client;
  private final String queueUrl;
  private final String queueName;
  private final int batchSize;
  private final Duration interval;
  private final int attempts;
  private final Scheduler scheduler;

  private final Object lock = new Object();
  private final ArrayDeque<Entry> pending = new ArrayDeque<>();
  private @Nullable Disposable timer;

  private static final class Entry {
    final String receiptHandle;
    final String messageId;
    final MonoSink<Void> sink;
    int attempt;

    Entry(String receiptHandle, String messageId, MonoSink<Void> sink) {
      this.receiptHandle = receiptHandle;
      this.messageId = messageId;
      this.sink = sink;
    }
  }

  public DeleteBatcher(
      SqsAsyncClient client,
      String queueUrl,
      String queueName,
      int batchSize,
      Duration interval,
      int attempts,
      Scheduler scheduler) {
    this.client = client;
    this.queueUrl = queueUrl;
    this.queueName = queueName;
    this.batchSize = batchSize;
    this.interval = interval;
    this.attempts = attempts;
    this.scheduler = scheduler;
  }

  /** Deletes the message when subscribed; completes once SQS confirmed the delete. */
  public Mono<Void> delete(String receiptHandle, String messageId) {
    return Mono.create(sink -> add(new Entry(receiptHandle, messageId, sink)));
  }

  private void add(Entry e) {
    List<List<Entry>> ready;
    synchronized (lock) {
      pending.addLast(e);
      if (pending.size() >= batchSize || interval.isZero()) {
        ready = takeBatches(false);
      } else {
        ready = List.of();
        if (timer == null) {
          timer = scheduler.schedule(this::onTimer, interval.toNanos(), TimeUnit.NANOSECONDS);
        }
      }
    }
    ready.forEach(this::send);
  }

  private void onTimer() {
    List<List<Entry>> ready;
    synchronized (lock) {
      timer = null;
      ready = takeBatches(true);
    }
    ready.forEach(this::send);
  }

  /** Full batches, plus the last partial one if {@code all}. Under the lock. */
  private List<List<Entry>> takeBatches(boolean all) {
    List<List<Entry>> out = new ArrayList<>();
    while (pending.size() >= batchSize || (all && !pending.isEmpty())) {
      List<Entry> batch = new ArrayList<>(batchSize);
      while (batch.size() < batchSize && !pending.isEmpty()) {
        batch.add(pending.pollFirst());
      }
      out.add(batch);
    }
    if (pending.isEmpty() && timer != null) {
      timer.dispose();
      timer = null;
    }
    return out;
  }

  private void send(List<Entry> batch) {
    List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>(batch.size());
    Map<String, Entry> byId = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      Entry e = batch.get(i);
      e.attempt++;
      String id = Integer.toString(i);
      byId.put(id, e);
      entries.add(
          DeleteMessageBatchRequestEntry.builder().id(id).receiptHandle(e.receiptHandle).build());
    }
    CompletableFuture<DeleteMessageBatchResponse> call;
    try {
      call =
          client.deleteMessageBatch(
              DeleteMessageBatchRequest.builder().queueUrl(queueUrl).entries(entries).build());
    } catch (RuntimeException ex) {
      call = CompletableFuture.failedFuture(ex);
    }
    call.whenComplete(
        (response, error) -> {
          if (error != null) {
            Throwable cause = SqsErrors.unwrap(error);
            boolean senderFault = SqsErrors.isSenderFault(cause);
            for (Entry e : batch) {
              retryOrFail(
                  e, SqsErrors.errorCode(cause), senderFault, SqsErrors.describe(cause), cause);
            }
            return;
          }
          for (DeleteMessageBatchResultEntry ok : response.successful()) {
            Entry e = byId.remove(ok.id());
            if (e != null) {
              e.sink.success();
            }
          }
          for (BatchResultErrorEntry failed : response.failed()) {
            Entry e = byId.remove(failed.id());
            if (e != null) {
              retryOrFail(
                  e,
                  failed.code(),
                  Boolean.TRUE.equals(failed.senderFault()),
                  String.valueOf(failed.message()),
                  null);
            }
          }
          // An entry SQS did not mention at all is treated as a failed line.
          for (Entry e : byId.values()) {
            retryOrFail(e, null, false, "missing from the DeleteMessageBatch answer", null);
          }
        });
  }

  private void retryOrFail(
      Entry e, @Nullable String code, boolean senderFault, String why, @Nullable Throwable cause) {
    String detail = why;
    if (!senderFault && e.attempt < attempts) {
      log.warn(
          "SQS delete of message {} on '{}' failed (attempt {}/{}, {}): {}; retrying",
          e.messageId,
          queueName,
          e.attempt,
          attempts,
          code,
          detail);
      try {
        scheduler.schedule(
            () -> add(e), RETRY_BACKOFF.toMillis() * e.attempt, TimeUnit.MILLISECONDS);
        return;
      } catch (RejectedExecutionException rejected) {
        detail = detail + "; no retry: the scheduler rejected it (" + rejected + ")";
      }
    }
    log.error(
        "SQS delete of message {} on '{}' failed for good after {} attempt(s) ({}): {}; the"
            + " message will be delivered again",
        e.messageId,
        queueName,
        e.attempt,
        code,
        detail);
    e.sink.error(
        new SqsOperationException(
            SqsOperationException.DELETE,
            queueName,
            e.messageId,
            code,
            senderFault,
            detail,
            cause));
  }
}
