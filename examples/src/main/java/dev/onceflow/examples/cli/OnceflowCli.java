package dev.onceflow.examples.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The onceflow consumer CLI: {@code consume}, {@code publish}, {@code dead-letters} and {@code
 * redrive} against Kafka, RabbitMQ or SQS, with the Redis or the in-memory store.
 *
 * <p>Exit codes: 0 success (for {@code consume}: the ledger balanced and nothing was left in
 * flight), 1 failure, 2 bad arguments (with a usage message on stderr).
 */
@Command(
    name = "onceflow",
    mixinStandardHelpOptions = true,
    version = "onceflow CLI 0.1.0",
    subcommands = {
      ConsumeCommand.class,
      PublishCommand.class,
      DeadLettersCommand.class,
      RedriveCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    },
    description = {
      "Consume, publish, list and redrive messages with onceflow on Kafka, RabbitMQ or SQS.",
      "",
      "Effects: `consume` applies one effect per message, HINCRBY <prefix>:<pipeline>:effects"
          + " <message id> 1 in Redis (default prefix `onceflow`, so `onceflow:orders:effects`"
          + " for pipeline `orders`); inspect it with `redis-cli HGETALL onceflow:orders:effects`."
          + " Store keys of message key K are <prefix>:<pipeline>:{K}:l (lease), :f (fence)"
          + " and :r (record); the braces are a Cluster hash tag. The CLI speaks to a standalone"
          + " Redis: in a Redis Cluster the one effects hash would live in another slot than the"
          + " messages' records, and a transactional effect must share its message's slot"
          + " (see RedisIdempotencyStore.colocated(name, key) for that layout in your code).",
      ""
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success (consume: ledger balanced, nothing in flight)",
      "1:failure (broker, store, or an unbalanced ledger)",
      "2:bad arguments"
    })
public final class OnceflowCli implements Runnable {

  @Spec
  @SuppressWarnings("NullAway.Init")
  CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(),
        "a subcommand is required: consume, publish, dead-letters, redrive or bench");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /**
   * Runs the CLI in this process and returns its exit code (the jar's {@code main} exits with it).
   */
  public static int execute(String... args) {
    return commandLine().execute(args);
  }

  /** Runs the CLI with its output sent to {@code out} and {@code err}. */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = commandLine();
    cl.setOut(out);
    cl.setErr(err);
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new OnceflowCli());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("error: " + e);
          return 1;
        });
    return cl;
  }
}
