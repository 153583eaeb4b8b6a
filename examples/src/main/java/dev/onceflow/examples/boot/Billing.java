package dev.onceflow.examples.boot;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Service;

/**
 * The charges made, in memory: the side effect the pipeline protects. It does not deduplicate by
 * itself, so a second charge of one order would show here as a second entry.
 */
@Service
public class Billing {

  private final List<Charge> charges = new ArrayList<>();

  /** Charges an order. */
  public synchronized Charge charge(String order, Order o, long fence) {
    Charge c = new Charge(order, o.item(), o.amount(), fence, Instant.now());
    charges.add(c);
    return c;
  }

  /** Every charge so far, oldest first. */
  public synchronized List<Charge> charges() {
    return List.copyOf(charges);
  }

  /** How many times {@code order} was charged. */
  public synchronized long timesCharged(String order) {
    return charges.stream().filter(c -> c.order().equals(order)).count();
  }
}
