package dev.onceflow.engine;

import dev.onceflow.core.Envelope;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.outcome.PipelineListener;
import dev.onceflow.store.RecordedOutcome;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The user's listener, with what it throws logged and ignored: it never changes the flow. */
final class SafeListener implements PipelineListener {
  private static final Logger log = LoggerFactory.getLogger(SafeListener.class);

  private final PipelineListener delegate;
  private final String pipeline;

  SafeListener(PipelineListener delegate, String pipeline) {
    this.delegate = delegate;
    this.pipeline = pipeline;
  }

  boolean none() {
    return delegate == PipelineListener.NONE;
  }

  private void failed(String event, Throwable t) {
    log.warn("pipeline '{}': listener failed on {}; ignored: {}", pipeline, event, t.toString());
  }

  @Override
  public void delivered(Envelope envelope) {
    try {
      delegate.delivered(envelope);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("delivered", t);
    }
  }

  @Override
  public void acquired(Envelope envelope, String key, long fence) {
    try {
      delegate.acquired(envelope, key, fence);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("acquired", t);
    }
  }

  @Override
  public void handlerStarted(Envelope envelope, String key, long fence, int attempt) {
    try {
      delegate.handlerStarted(envelope, key, fence, attempt);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("handlerStarted", t);
    }
  }

  @Override
  public void handlerFinished(
      Envelope envelope, String key, long fence, int attempt, @Nullable Throwable failure) {
    try {
      delegate.handlerFinished(envelope, key, fence, attempt, failure);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("handlerFinished", t);
    }
  }

  @Override
  public void deadLettered(Envelope envelope, DeadLetter deadLetter) {
    try {
      delegate.deadLettered(envelope, deadLetter);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("deadLettered", t);
    }
  }

  @Override
  public void recorded(Envelope envelope, String key, long fence, RecordedOutcome outcome) {
    try {
      delegate.recorded(envelope, key, fence, outcome);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("recorded", t);
    }
  }

  @Override
  public void settled(Outcome<?> outcome) {
    try {
      delegate.settled(outcome);
    } catch (RuntimeException | LinkageError | AssertionError t) {
      failed("settled", t);
    }
  }
}
