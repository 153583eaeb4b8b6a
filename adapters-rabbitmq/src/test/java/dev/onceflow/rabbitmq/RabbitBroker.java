package dev.onceflow.rabbitmq;

import static org.assertj.core.api.Assertions.fail;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.springframework.amqp.core.QueueInformation;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;

/** The machine's RabbitMQ on 127.0.0.1:5672 (guest/guest), for the *IT tests. */
final class RabbitBroker {

  static final String URI = "amqp://guest:guest@127.0.0.1:5672";
  static final String START_COMMAND =
      "rabbitmq-server -detached && until rabbitmq-diagnostics -q check_port_listener 5672;"
          + " do sleep 0.5; done";

  private RabbitBroker() {}

  /** Fails, naming the command that starts the broker, when nothing listens on 5672. */
  static void requireRunning() {
    dev.onceflow.test.LocalServers.requireRabbitMq();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5672), 2000);
    } catch (IOException e) {
      fail(
          "RabbitMQ is not reachable on 127.0.0.1:5672 ("
              + e
              + "). Start it with: "
              + START_COMMAND);
    }
  }

  /** A caching connection factory with correlated confirms and returns, owned by the test. */
  static CachingConnectionFactory connectionFactory() {
    CachingConnectionFactory cf = new CachingConnectionFactory(java.net.URI.create(URI));
    cf.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    cf.setPublisherReturns(true);
    return cf;
  }

  static String uniqueName(String prefix) {
    return "onceflow-it-" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Raw amqp-client access, for setting up and checking, independent of the adapter. */
  static final class Admin implements AutoCloseable {
    private final CachingConnectionFactory cf = connectionFactory();
    private final RabbitAdmin admin = new RabbitAdmin(cf);
    private final com.rabbitmq.client.ConnectionFactory rawFactory;
    private final Connection raw;

    Admin() {
      requireRunning();
      try {
        rawFactory = new com.rabbitmq.client.ConnectionFactory();
        rawFactory.setUri(URI);
        raw = rawFactory.newConnection("onceflow-it-admin");
      } catch (Exception e) {
        throw new IllegalStateException(
            "cannot connect to " + URI + "; start: " + START_COMMAND, e);
      }
    }

    RabbitAdmin admin() {
      return admin;
    }

    void declareQueue(String name, Map<String, Object> args) throws IOException {
      try (Channel ch = raw.createChannel()) {
        ch.queueDeclare(name, true, false, false, args);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IOException(e);
      }
    }

    void deleteQueue(String name) {
      admin.deleteQueue(name);
    }

    void deleteExchange(String name) {
      admin.deleteExchange(name);
    }

    /** Publishes persistent messages with these ids (message-id property), waiting for confirms. */
    void publish(String queue, List<String> ids) throws Exception {
      try (Channel ch = raw.createChannel()) {
        ch.confirmSelect();
        for (String id : ids) {
          AMQP.BasicProperties props =
              new AMQP.BasicProperties.Builder().messageId(id).deliveryMode(2).build();
          ch.basicPublish("", queue, props, ("payload-" + id).getBytes(StandardCharsets.UTF_8));
        }
        ch.waitForConfirmsOrDie(60_000);
      }
    }

    /** Publishes one message with the given properties and body, waiting for the confirm. */
    void publish(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body)
        throws Exception {
      try (Channel ch = raw.createChannel()) {
        ch.confirmSelect();
        ch.basicPublish(exchange, routingKey, props, body);
        ch.waitForConfirmsOrDie(10_000);
      }
    }

    /** Messages ready in the queue (not counting unacked ones), by a passive declare. */
    long ready(String queue) {
      QueueInformation info = admin.getQueueInfo(queue);
      if (info == null) {
        throw new IllegalStateException("queue " + queue + " does not exist");
      }
      return info.getMessageCount();
    }

    int consumers(String queue) {
      QueueInformation info = admin.getQueueInfo(queue);
      return info == null ? -1 : info.getConsumerCount();
    }

    /** Fetches one message with auto-ack, or null when the queue is empty. */
    com.rabbitmq.client.GetResponse get(String queue) throws Exception {
      try (Channel ch = raw.createChannel()) {
        return ch.basicGet(queue, true);
      }
    }

    @Override
    public void close() throws Exception {
      raw.close();
      cf.destroy();
    }
  }

  /**
   * The broker's own count of unacknowledged deliveries of a queue, from {@code rabbitmqctl
   * list_queues} (slow: about a second).
   */
  static int unackedByRabbitmqctl(String queue) throws Exception {
    Process p =
        new ProcessBuilder("rabbitmqctl", "list_queues", "-q", "name", "messages_unacknowledged")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("rabbitmqctl list_queues failed: " + out);
    }
    for (String line : out.split("\n")) {
      String[] parts = line.trim().split("\\s+");
      if (parts.length == 2 && parts[0].equals(queue)) {
        return Integer.parseInt(parts[1]);
      }
    }
    throw new IllegalStateException("queue " + queue + " not listed by rabbitmqctl: " + out);
  }
}
