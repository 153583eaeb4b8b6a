package dev.onceflow.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.onceflow.outcome.Ledger;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Test;

/** Each broker example processes its 1,000 orders once and skips the 1,000 re-sent copies. */
class BrokerExamplesIT {

  @Test
  void kafkaExample() {
    assertOnce(KafkaOrdersExample.run(), KafkaOrdersExample.ORDERS);
  }

  @Test
  void rabbitExample() {
    dev.onceflow.test.LocalServers.requireRabbitMq();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 5672), 2000);
    } catch (Exception e) {
      fail(
          "RabbitMQ does not answer at 127.0.0.1:5672: start it with `rabbitmq-server -detached`"
              + " or `bash .ci/run`");
    }
    assertOnce(
        RabbitOrdersExample.run("amqp://guest:guest@127.0.0.1:5672"), RabbitOrdersExample.ORDERS);
  }

  @Test
  void sqsExample() {
    try (ElasticMq sqs = ElasticMq.start()) {
      assertOnce(SqsOrdersExample.run(sqs.endpoint()), SqsOrdersExample.ORDERS);
    }
  }

  private static void assertOnce(Ledger l, int orders) {
    assertThat(l.balanced()).as(l.toString()).isTrue();
    assertThat(l.processed()).as(l.toString()).isEqualTo(orders);
    assertThat(l.duplicates()).as(l.toString()).isEqualTo(orders);
    assertThat(l.inFlight()).isZero();
  }
}
