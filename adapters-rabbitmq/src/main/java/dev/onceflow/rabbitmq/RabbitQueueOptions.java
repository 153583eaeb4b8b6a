package dev.onceflow.rabbitmq;

import dev.onceflow.core.Check;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The options of a RabbitMQ component with a queue of its own (a source's queue, a dead-letter
 * queue): whether it declares the queue, and with which arguments.
 */
abstract class RabbitQueueOptions extends RabbitOptions {

  /**
   * Default for declaring the queue: false. The topology is the operator's; a missing queue fails
   * with a message that names it (the source's subscription, the dead-letter sink's {@code
   * ready()}).
   */
  public static final boolean DEFAULT_DECLARE_QUEUE = false;

  private final boolean declareQueue;
  private final Map<String, Object> queueArguments;

  RabbitQueueOptions(Builder<?> b) {
    super(b);
    this.declareQueue = b.declareQueue;
    this.queueArguments = Collections.unmodifiableMap(new LinkedHashMap<>(b.queueArguments));
  }

  /** Whether the component declares its queue instead of checking that it exists. */
  public boolean declareQueue() {
    return declareQueue;
  }

  /** The arguments the queue is declared with (only used when {@link #declareQueue()}). */
  public Map<String, Object> queueArguments() {
    return queueArguments;
  }

  /** The queue setters the builders share. */
  abstract static class Builder<B extends Builder<B>> extends RabbitOptions.Builder<B> {
    private boolean declareQueue = DEFAULT_DECLARE_QUEUE;
    private final Map<String, Object> queueArguments = new LinkedHashMap<>();

    Builder() {}

    /**
     * Whether the component declares its queue (durable, not exclusive, not auto-delete, with the
     * {@link #queueArgument(String, Object)}s) when it starts, instead of checking that it exists:
     * each subscription of a source, the {@code ready()} of a dead-letter sink. Default {@link
     * #DEFAULT_DECLARE_QUEUE}.
     */
    public B declareQueue(boolean declareQueue) {
      this.declareQueue = declareQueue;
      return self();
    }

    /**
     * An argument the queue is declared with, such as {@code x-queue-type=quorum} or {@code
     * x-dead-letter-exchange}. Only used with {@link #declareQueue(boolean) declareQueue(true)}.
     */
    public B queueArgument(String name, Object value) {
      queueArguments.put(Check.notBlank(name, "name"), Objects.requireNonNull(value, "value"));
      return self();
    }

    /** Starts from the values of {@code o}. */
    final void from(RabbitQueueOptions o) {
      super.from(o);
      this.declareQueue = o.declareQueue;
      this.queueArguments.putAll(o.queueArguments);
    }

    final boolean declaring() {
      return declareQueue;
    }
  }
}
