package dev.onceflow.rabbitmq.internal;

import dev.onceflow.rabbitmq.RabbitOperationException;
import java.util.HashMap;
import java.util.Map;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/** Checks and declarations of queues and exchanges. Blocking: callers run them off event loops. */
public final class Topology {

  private Topology() {}

  /**
   * Declares a durable, non-exclusive, non-auto-delete queue with these arguments (idempotent when
   * it exists with the same arguments).
   *
   * @throws RabbitOperationException {@code declare-queue} naming the queue when the broker refuses
   */
  public static void declareQueue(ConnectionFactory cf, String queue, Map<String, Object> args) {
    try {
      new RabbitAdmin(cf).declareQueue(new Queue(queue, true, false, false, new HashMap<>(args)));
    } catch (RuntimeException e) {
      throw RabbitOperationException.topology(
          RabbitOperationException.DECLARE_QUEUE, queue, "the broker refused: " + e, e);
    }
  }

  /**
   * Checks that a queue exists (a passive declare).
   *
   * @param hint what to do about a missing queue, appended to the error
   * @throws RabbitOperationException {@code check-queue} naming the queue when it is missing or the
   *     broker cannot be asked
   */
  public static void requireQueue(ConnectionFactory cf, String queue, String hint) {
    boolean exists;
    try {
      exists = new RabbitAdmin(cf).getQueueProperties(queue) != null;
    } catch (RuntimeException e) {
      throw RabbitOperationException.topology(
          RabbitOperationException.CHECK_QUEUE, queue, "could not ask the broker: " + e, e);
    }
    if (!exists) {
      throw RabbitOperationException.topology(
          RabbitOperationException.CHECK_QUEUE, queue, "the queue does not exist: " + hint, null);
    }
  }

  /**
   * Checks that an exchange exists (a passive declare on a channel of its own); the default
   * exchange ({@code ""}) always does.
   *
   * @throws RabbitOperationException {@code check-exchange} naming the exchange otherwise
   */
  public static void requireExchange(RabbitTemplate template, String exchange) {
    if (exchange.isEmpty()) {
      return;
    }
    try {
      template.execute(
          channel -> {
            channel.exchangeDeclarePassive(exchange);
            return null;
          });
    } catch (RuntimeException e) {
      throw RabbitOperationException.topology(
          RabbitOperationException.CHECK_EXCHANGE,
          exchange,
          "the exchange does not exist or cannot be checked (" + e + "): declare it",
          e);
    }
  }
}
