package dev.onceflow.examples.boot;

/**
 * An order, as JSON on the wire: {@code {"item":"book","amount":1200}}.
 *
 * @param item what is bought
 * @param amount the amount to charge, in cents
 */
public record Order(String item, long amount) {}
