package dev.onceflow.examples.webflux;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.Origin;
import dev.onceflow.examples.Orders;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.memory.InMemorySource;
import dev.onceflow.outcome.Ledger;
import dev.onceflow.pipeline.Pipeline;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.Disposable;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A Spring WebFlux service (functional routes on Reactor Netty, no Spring Boot) that runs an
 * onceflow pipeline as part of its lifecycle: {@link #start} starts the pipeline, then the HTTP
 * server; {@link #close} stops the server, then the pipeline gracefully (stop pulling, drain
 * in-flight deliveries up to the timeout, release the rest).
 *
 * <ul>
 *   <li>{@code GET /ledger}: the pipeline's ledger as JSON ({@code delivered}, {@code processed},
 *       {@code duplicates}, {@code deadLettered}, {@code nacked}, {@code inFlight}, {@code
 *       balanced}, {@code running}).
 *   <li>{@code GET /health}: 200 {@code {"status":"UP"}} while the pipeline runs, 503 {@code
 *       {"status":"DOWN"}} otherwise.
 * </ul>
 *
 * Handlers never block: the ledger is a snapshot of counters.
 */
public final class OrdersService implements AutoCloseable {

  private final Pipeline<?, ?> pipeline;
  private final Disposable running;
  private final DisposableServer server;
  private final Duration stopTimeout;

  private OrdersService(
      Pipeline<?, ?> pipeline, Disposable running, DisposableServer server, Duration stopTimeout) {
    this.pipeline = pipeline;
    this.running = running;
    this.server = server;
    this.stopTimeout = stopTimeout;
  }

  /**
   * Starts {@code pipeline} and an HTTP server on {@code host}:{@code port} (0: a free port).
   * Blocks until the server is bound.
   */
  public static OrdersService start(
      Pipeline<?, ?> pipeline, String host, int port, Duration stopTimeout) {
    Objects.requireNonNull(pipeline, "pipeline");
    Disposable running = pipeline.start();
    try {
      HttpHandler handler = RouterFunctions.toHttpHandler(routes(pipeline));
      DisposableServer server =
          HttpServer.create()
              .host(host)
              .port(port)
              .handle(new ReactorHttpHandlerAdapter(handler))
              .bindNow(Duration.ofSeconds(10));
      return new OrdersService(pipeline, running, server, stopTimeout);
    } catch (RuntimeException e) {
      pipeline.stop(stopTimeout).block(stopTimeout.plusSeconds(10));
      running.dispose();
      throw e;
    }
  }

  /** The routes: {@code GET /ledger} and {@code GET /health}. */
  static RouterFunction<ServerResponse> routes(Pipeline<?, ?> pipeline) {
    return RouterFunctions.route()
        .GET(
            "/ledger",
            request ->
                ServerResponse.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(json(pipeline.ledger(), pipeline.running())))
        .GET(
            "/health",
            request ->
                ServerResponse.status(
                        pipeline.running() ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
                    .contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(
                        pipeline.running() ? "{\"status\":\"UP\"}" : "{\"status\":\"DOWN\"}"))
        .build();
  }

  static String json(Ledger l, boolean running) {
    return "{\"delivered\":"
        + l.delivered()
        + ",\"processed\":"
        + l.processed()
        + ",\"duplicates\":"
        + l.duplicates()
        + ",\"deadLettered\":"
        + l.deadLettered()
        + ",\"nacked\":"
        + l.nacked()
        + ",\"inFlight\":"
        + l.inFlight()
        + ",\"balanced\":"
        + l.balanced()
        + ",\"running\":"
        + running
        + "}";
  }

  /** The port the server listens on. */
  public int port() {
    return server.port();
  }

  public Pipeline<?, ?> pipeline() {
    return pipeline;
  }

  /** Stops the HTTP server, then the pipeline gracefully. Blocks up to the stop timeout. */
  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(10));
    pipeline.stop(stopTimeout).block(stopTimeout.plusSeconds(10));
    running.dispose();
  }

  /**
   * Runs the service on port 8080 (or the first argument) over an in-memory queue of 1,000 orders
   * sent twice each; {@code curl localhost:8080/ledger}. Ctrl-C (SIGTERM) stops it gracefully.
   */
  public static void main(String[] args) throws InterruptedException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
    InMemorySource queue = InMemorySource.create("orders");
    for (int n = 0; n < 2_000; n++) {
      queue.publish(
          Envelope.builder()
              .messageId("order-" + n / 2)
              .payload(Orders.payload(n / 2))
              .origin(Origin.kafka("orders", 0, n)));
    }
    Pipeline<String, String> pipeline =
        Orders.pipeline(
            "orders", queue, InMemoryDeadLetters.create(), InMemoryIdempotencyStore.create());
    OrdersService service = start(pipeline, "127.0.0.1", port, Duration.ofSeconds(30));
    System.out.println(
        "listening on http://127.0.0.1:" + service.port() + " (GET /ledger, GET /health)");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  service.close();
                  System.out.println("stopped; ledger " + pipeline.ledger());
                  stopped.countDown();
                }));
    stopped.await();
  }
}
