package dev.onceflow.examples.boot;

import java.time.Instant;

/**
 * One charge of an order: the effect that must happen once per order.
 *
 * @param order the order's key (its Idempotency-Key, or its message id on Kafka)
 * @param item what was bought
 * @param amount the amount charged, in cents
 * @param fence the fence of the lease it was charged under
 * @param at when it was charged
 */
public record Charge(String order, String item, long amount, long fence, Instant at) {}
