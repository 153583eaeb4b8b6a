package dev.onceflow.spring.boot.web;

import dev.onceflow.spring.boot.OnceflowProperties;
import dev.onceflow.spring.boot.internal.CapturingResponse;
import dev.onceflow.spring.boot.internal.StoredResponse;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.IdempotencyStore;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Makes selected HTTP routes idempotent with the {@code Idempotency-Key} request header (IETF draft
 * "The Idempotency-Key HTTP Header Field"), keeping keys in an onceflow {@link IdempotencyStore}
 * with leases and fencing, as pipelines keep message keys.
 *
 * <p>On a selected route (a path pattern and a method, POST and PATCH by default):
 *
 * <ul>
 *   <li>The first request with a key takes a lease on it, runs the handler, and records the status,
 *       the selected headers and the body before the response is sent. A repeat gets the stored
 *       response byte for byte, with the replay marker header ({@code Idempotent-Replayed: true}).
 *   <li>A repeat while the first still runs answers 409 with {@code Retry-After}; the same key with
 *       another request fingerprint (method, path and a SHA-256 digest of the body) answers 422; a
 *       missing key on a route that requires one answers 400; a request body over the limit answers
 *       413 and is not run; a store that does not answer gives 503 and the handler is not run (fail
 *       closed). Each of these answers has an RFC 9457 {@code application/problem+json} body.
 *   <li>Keys are scoped per route and per authenticated principal ({@code
 *       ServerWebExchange.getPrincipal()}): one client cannot replay another's response.
 *   <li>While the handler runs, a heartbeat extends the lease every third of its time. A crashed
 *       instance leaves its lease to expire; a retry then takes the key over with a higher fence.
 *       The lease (key and fence) is in the exchange attribute {@link #LEASE_ATTRIBUTE}, for
 *       downstream writes guarded by the fence.
 *   <li>A response with a 5xx status, or a handler that fails or is cancelled, releases the key
 *       instead of recording it, so that the client's retry runs again. A response body larger than
 *       the retention limit is sent as it is but not kept: a repeat answers 409 (the request ran
 *       once, its response was not kept).
 * </ul>
 *
 * Nothing here blocks: the request body is read up to its limit, the response body is gathered up
 * to its limit, and the store is called reactively.
 */
public final class IdempotencyKeyWebFilter implements WebFilter, Ordered {

  /** The exchange attribute holding the {@link Lease} of the running request. */
  public static final String LEASE_ATTRIBUTE = IdempotencyKeyWebFilter.class.getName() + ".lease";

  /** Problem type of a missing or malformed key (400). */
  public static final String PROBLEM_KEY_MISSING = "urn:onceflow:problem:idempotency-key-missing";

  /** Problem type of a repeat while the first request still runs (409). */
  public static final String PROBLEM_IN_PROGRESS = "urn:onceflow:problem:idempotency-key-in-use";

  /** Problem type of a key reused for another request (422). */
  public static final String PROBLEM_KEY_REUSED = "urn:onceflow:problem:idempotency-key-reused";

  /** Problem type of a request body over the limit (413). */
  public static final String PROBLEM_TOO_LARGE = "urn:onceflow:problem:request-too-large";

  /** Problem type of a repeat whose first response was too large to keep (409). */
  public static final String PROBLEM_NOT_RETAINED = "urn:onceflow:problem:response-not-retained";

  /** Problem type of an idempotency store that did not answer (503). */
  public static final String PROBLEM_STORE_UNAVAILABLE = "urn:onceflow:problem:store-unavailable";

  private static final Logger log = LoggerFactory.getLogger(IdempotencyKeyWebFilter.class);
  private static final MediaType PROBLEM = MediaType.APPLICATION_PROBLEM_JSON;

  private final IdempotencyStore store;
  private final OnceflowProperties.Idempotency options;
  private final JsonMapper json;
  private final List<Route> routes;
  private final Set<String> methods;
  private final String owner = "http-" + UUID.randomUUID();

  private record Route(String id, PathPattern pattern) {}

  /**
   * @param store where keys and responses are kept
   * @param options the routes and limits ({@code onceflow.http.idempotency.*})
   * @param json writes the problem+json bodies
   * @throws IllegalArgumentException when a path pattern or a limit is not valid
   */
  public IdempotencyKeyWebFilter(
      IdempotencyStore store, OnceflowProperties.Idempotency options, JsonMapper json) {
    this.store = Objects.requireNonNull(store, "store");
    this.options = Objects.requireNonNull(options, "options");
    this.json = Objects.requireNonNull(json, "json");
    Set<String> m = new TreeSet<>();
    for (String method : options.getMethods()) {
      m.add(method.trim().toUpperCase(Locale.ROOT));
    }
    this.methods = Set.copyOf(m);
    List<Route> r = new ArrayList<>();
    for (String path : options.getPaths()) {
      r.add(new Route(path, PathPatternParser.defaultInstance.parse(path)));
    }
    this.routes = List.copyOf(r);
  }

  @Override
  public int getOrder() {
    return options.getOrder();
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    ServerHttpRequest request = exchange.getRequest();
    Route route = route(request);
    if (route == null) {
      return chain.filter(exchange);
    }
    String key = key(request.getHeaders().getFirst(options.getHeader()));
    if (key == null) {
      if (request.getHeaders().containsHeader(options.getHeader())) {
        return problem(
            exchange,
            HttpStatus.BAD_REQUEST,
            PROBLEM_KEY_MISSING,
            "Malformed Idempotency-Key",
            "The "
                + options.getHeader()
                + " header must be 1 to "
                + options.getMaxKeyLength()
                + " visible ASCII characters.",
            null);
      }
      if (!options.isRequired()) {
        return chain.filter(exchange);
      }
      return problem(
          exchange,
          HttpStatus.BAD_REQUEST,
          PROBLEM_KEY_MISSING,
          "Idempotency-Key required",
          "This request must carry an " + options.getHeader() + " header.",
          null);
    }
    long maxRequest = options.getMaxRequestSize().toBytes();
    long declared = request.getHeaders().getContentLength();
    if (declared > maxRequest) {
      return tooLarge(exchange, maxRequest);
    }
    String routeId = request.getMethod().name() + " " + route.id();
    return exchange
        .getPrincipal()
        .map(Principal::getName)
        .defaultIfEmpty("")
        .flatMap(
            principal ->
                body(request, maxRequest)
                    .flatMap(body -> acquire(exchange, chain, routeId, principal, key, body)))
        .onErrorResume(DataBufferLimitException.class, e -> tooLarge(exchange, maxRequest));
  }

  private @Nullable Route route(ServerHttpRequest request) {
    if (routes.isEmpty() || !methods.contains(request.getMethod().name())) {
      return null;
    }
    PathContainer path = request.getPath().pathWithinApplication();
    for (Route r : routes) {
      if (r.pattern().matches(path)) {
        return r;
      }
    }
    return null;
  }

  /** The key, without the quotes of a structured-field string; null when missing or malformed. */
  private @Nullable String key(@Nullable String header) {
    if (header == null) {
      return null;
    }
    String k = header.trim();
    if (k.length() >= 2 && k.startsWith("\"") && k.endsWith("\"")) {
      k = k.substring(1, k.length() - 1);
    }
    if (k.isEmpty() || k.length() > options.getMaxKeyLength()) {
      return null;
    }
    for (int i = 0; i < k.length(); i++) {
      char c = k.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return null;
      }
    }
    return k;
  }

  private static Mono<byte[]> body(ServerHttpRequest request, long max) {
    return DataBufferUtils.join(request.getBody(), (int) Math.min(max, Integer.MAX_VALUE))
        .map(
            b -> {
              try {
                byte[] bytes = new byte[b.readableByteCount()];
                b.read(bytes);
                return bytes;
              } finally {
                DataBufferUtils.release(b);
              }
            })
        .defaultIfEmpty(new byte[0]);
  }

  private Mono<Void> acquire(
      ServerWebExchange exchange,
      WebFilterChain chain,
      String routeId,
      String principal,
      String key,
      byte[] body) {
    ServerHttpRequest request = exchange.getRequest();
    String storeKey = routeId + "|" + principal.length() + ":" + principal + "|" + key;
    String fingerprint = fingerprint(request.getMethod().name(), request.getPath().value(), body);
    AcquireRequest acquire =
        new AcquireRequest(
            options.getNamespace(),
            storeKey,
            owner,
            options.getLease(),
            options.getRetention(),
            fingerprint,
            null,
            false);
    return Mono.defer(() -> store.acquire(acquire))
        .onErrorResume(
            e -> {
              log.warn("Idempotency-Key store did not answer; refusing the request", e);
              return problem(
                      exchange,
                      HttpStatus.SERVICE_UNAVAILABLE,
                      PROBLEM_STORE_UNAVAILABLE,
                      "Idempotency store unavailable",
                      "The request was not run; retry it with the same key.",
                      Duration.ofSeconds(1))
                  .then(Mono.empty());
            })
        .flatMap(
            result -> {
              if (result instanceof AcquireResult.Acquired a) {
                return run(exchange, chain, a.lease(), body);
              }
              if (result instanceof AcquireResult.Completed c) {
                return replay(exchange, c.record());
              }
              if (result instanceof AcquireResult.InProgress p) {
                Duration wait = Duration.between(Instant.now(), p.leaseExpiresAt());
                return problem(
                    exchange,
                    HttpStatus.CONFLICT,
                    PROBLEM_IN_PROGRESS,
                    "Request in progress",
                    "A request with this Idempotency-Key is still running; retry later.",
                    wait.isNegative() ? Duration.ofSeconds(1) : wait);
              }
              return problem(
                  exchange,
                  HttpStatus.UNPROCESSABLE_CONTENT,
                  PROBLEM_KEY_REUSED,
                  "Idempotency-Key reused",
                  "This Idempotency-Key was used for another request (method, path or body"
                      + " differ); use a new key for a new request.",
                  null);
            });
  }

  private Mono<Void> run(
      ServerWebExchange exchange, WebFilterChain chain, Lease lease, byte[] body) {
    CapturingResponse response =
        new CapturingResponse(
            exchange.getResponse(),
            options.getMaxResponseSize().toBytes(),
            options.getReplayedHeaders(),
            stored -> record(lease, stored));
    ServerHttpRequest request =
        new ServerHttpRequestDecorator(exchange.getRequest()) {
          @Override
          public Flux<DataBuffer> getBody() {
            return body.length == 0
                ? Flux.empty()
                : Flux.defer(() -> Flux.just(exchange.getResponse().bufferFactory().wrap(body)));
          }
        };
    ServerWebExchange mutated = exchange.mutate().request(request).response(response).build();
    mutated.getAttributes().put(LEASE_ATTRIBUTE, lease);
    Mono<Void> work = chain.filter(mutated).then(response.recordIfNotYet());
    return Mono.usingWhen(
        Mono.just(lease),
        l -> Mono.firstWithSignal(work, heartbeat(l)),
        l -> Mono.empty(),
        (l, error) -> releaseUnlessRecorded(response, l),
        l -> releaseUnlessRecorded(response, l));
  }

  /** Extends the lease every third of its time, for as long as it is subscribed; never ends. */
  private Mono<Void> heartbeat(Lease lease) {
    Duration every = options.getLease().dividedBy(3);
    return Flux.interval(every, every)
        .concatMap(
            i ->
                store
                    .extend(lease, options.getLease())
                    .onErrorResume(
                        e -> {
                          log.warn("Idempotency-Key lease could not be extended", e);
                          return Mono.just(true);
                        }))
        .then(Mono.never());
  }

  /** Records a response (below 500) or releases the key (5xx), before the response is sent. */
  private Mono<Void> record(Lease lease, StoredResponse stored) {
    if (stored.status() >= 500) {
      return release(lease);
    }
    return store
        .complete(lease, Completion.processed(stored.encode(), options.getRetention()))
        .doOnNext(
            written -> {
              if (!written) {
                log.warn(
                    "Idempotency-Key lease of {} (fence {}) was taken over before the response"
                        + " was recorded",
                    lease.namespace(),
                    lease.fence());
              }
            })
        .onErrorResume(
            e -> {
              log.warn("Idempotency-Key response could not be recorded; the key will expire", e);
              return Mono.just(false);
            })
        .then();
  }

  private Mono<Void> releaseUnlessRecorded(CapturingResponse response, Lease lease) {
    return response.recorded() ? Mono.empty() : release(lease);
  }

  private Mono<Void> release(Lease lease) {
    return store
        .release(lease)
        .onErrorResume(
            e -> {
              log.warn("Idempotency-Key lease could not be released; it will expire", e);
              return Mono.just(false);
            })
        .then();
  }

  private Mono<Void> replay(ServerWebExchange exchange, OutcomeRecord record) {
    byte[] bytes = record.result();
    StoredResponse stored = bytes == null ? null : StoredResponse.decode(bytes);
    if (stored == null || !stored.retained()) {
      return problem(
          exchange,
          HttpStatus.CONFLICT,
          PROBLEM_NOT_RETAINED,
          "Response not retained",
          "The request with this Idempotency-Key ran once, but its response was larger than the"
              + " server keeps.",
          null);
    }
    ServerHttpResponse response = exchange.getResponse();
    response.setStatusCode(org.springframework.http.HttpStatusCode.valueOf(stored.status()));
    stored.headers().forEach((name, values) -> response.getHeaders().put(name, values));
    response.getHeaders().set(options.getReplayedHeader(), "true");
    byte[] body = stored.body();
    return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(body)));
  }

  private Mono<Void> tooLarge(ServerWebExchange exchange, long max) {
    return problem(
        exchange,
        HttpStatus.CONTENT_TOO_LARGE,
        PROBLEM_TOO_LARGE,
        "Request too large",
        "The request body is larger than " + max + " bytes; it was not run.",
        null);
  }

  private Mono<Void> problem(
      ServerWebExchange exchange,
      HttpStatus status,
      String type,
      String title,
      String detail,
      @Nullable Duration retryAfter) {
    Map<String, Object> problem = new LinkedHashMap<>();
    problem.put("type", type);
    problem.put("title", title);
    problem.put("status", status.value());
    problem.put("detail", detail);
    problem.put("instance", exchange.getRequest().getPath().value());
    byte[] body = json.writeValueAsBytes(problem);
    ServerHttpResponse response = exchange.getResponse();
    response.setStatusCode(status);
    HttpHeaders headers = response.getHeaders();
    headers.setContentType(PROBLEM);
    if (retryAfter != null) {
      long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
      headers.set(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
    }
    return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(body)));
  }

  /** SHA-256 over method, path and body: what makes two requests with one key "the same". */
  static String fingerprint(String method, String path, byte[] body) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
    md.update(method.getBytes(StandardCharsets.US_ASCII));
    md.update((byte) ' ');
    md.update(path.getBytes(StandardCharsets.UTF_8));
    md.update((byte) '\n');
    md.update(body);
    return HexFormat.of().formatHex(md.digest(), 0, 16);
  }
}
