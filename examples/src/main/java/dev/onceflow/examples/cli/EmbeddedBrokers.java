package dev.onceflow.examples.cli;

/**
 * Brokers started inside this JVM for {@code bench}: a KRaft Kafka broker (module
 * onceflow-kafka-embedded, on the examples' runtime classpath) and ElasticMQ (on their test
 * classpath only, so it is started by reflection). Neither is in the CLI jar, which speaks to real
 * brokers; from the jar, these fail with a message that says how to run with them.
 */
final class EmbeddedBrokers {

  /** A started broker: its address and what stops it. */
  record Started(String address, AutoCloseable handle) {}

  static final String HOW =
      " is not on this classpath. Give an address instead, or run the CLI on the examples' test"
          + " classpath (see docs/BENCHMARKS.md): mvn -o -q -pl examples -am test-compile"
          + " org.apache.maven.plugins:maven-dependency-plugin:3.9.0:build-classpath"
          + " -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath, then java -cp"
          + " examples/target/classes:$(cat examples/target/bench.classpath)"
          + " dev.onceflow.examples.cli.OnceflowCli bench ...";

  private EmbeddedBrokers() {}

  static Started kafka() {
    try {
      return Kafka.start();
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException(
          "the in-JVM Kafka broker (--bootstrap-servers embedded)" + HOW);
    }
  }

  static Started elasticMq() {
    try {
      return Sqs.start();
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("ElasticMQ (--sqs-endpoint embedded)" + HOW);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("ElasticMQ did not start: " + e, e);
    }
  }

  /** Loaded only when an in-JVM Kafka broker is asked for. */
  private static final class Kafka {
    static Started start() {
      dev.onceflow.kafka.embedded.EmbeddedKafka kafka =
          dev.onceflow.kafka.embedded.EmbeddedKafka.start();
      return new Started(kafka.bootstrapServers(), kafka);
    }
  }

  /**
   * {@code SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start()}, then {@code
   * waitUntilStarted().localAddress()}, by reflection.
   */
  private static final class Sqs {
    static Started start() throws ReflectiveOperationException {
      Class<?> builderClass = Class.forName("org.elasticmq.rest.sqs.SQSRestServerBuilder");
      Object builder =
          builderClass.getMethod("withInterface", String.class).invoke(null, "127.0.0.1");
      builder = builder.getClass().getMethod("withDynamicPort").invoke(builder);
      Object server = builder.getClass().getMethod("start").invoke(builder);
      Class<?> serverClass = Class.forName("org.elasticmq.rest.sqs.SQSRestServer");
      Object binding = serverClass.getMethod("waitUntilStarted").invoke(server);
      java.net.InetSocketAddress address =
          (java.net.InetSocketAddress) binding.getClass().getMethod("localAddress").invoke(binding);
      java.lang.reflect.Method stop = serverClass.getMethod("stopAndWait");
      return new Started("http://127.0.0.1:" + address.getPort(), () -> stop.invoke(server));
    }
  }
}
