// A PerfTest-style load client on RabbitMQ's official Java client (Debian's librabbitmq-client-java):
// one producer connection and one consumer connection, one frame set per message (the client writes each
// publish as it is made), manual acks, publisher confirms with an outstanding window. Prints one JSON line.
//
//   java -cp amqp-client.jar:slf4j-api.jar:slf4j-nop.jar:CLASSES JavaPerf URI SCENARIO SECONDS
//
// Scenarios (bench/java-perf.ts lists them with their titles):
//   transient   100 B, non-persistent, no confirms, consumer prefetch 1000 with an ack per message
//   persistent  100 B, persistent to a durable queue, confirms with at most 1000 outstanding, acks
//   fanout      100 B to a fanout exchange bound to 10 queues, one consumer channel per queue; deliveries
//   noack       16 B, no confirms, consumer with automatic acknowledgement
//   latency     100 B at a fixed 5,000 msg/s, confirms, acks; publish-to-delivery latency percentiles
import com.rabbitmq.client.*;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

public final class JavaPerf {
  record Scenario(int bodyBytes, boolean persistent, int confirmWindow, int queues, boolean autoAck, int ratePerSecond) {}

  static final Map<String, Scenario> SCENARIOS = Map.of(
      "transient", new Scenario(100, false, 0, 1, false, 0),
      "persistent", new Scenario(100, true, 1000, 1, false, 0),
      "fanout", new Scenario(100, false, 0, 10, false, 0),
      "noack", new Scenario(16, false, 0, 1, true, 0),
      "latency", new Scenario(100, false, 1000, 1, false, 5000));

  static final int PREFETCH = 1000;

  public static void main(String[] args) throws Exception {
    if (args.length != 3 || !SCENARIOS.containsKey(args[1])) {
      System.err.println("usage: JavaPerf URI " + SCENARIOS.keySet() + " SECONDS");
      System.exit(2);
    }
    Scenario s = SCENARIOS.get(args[1]);
    double seconds = Double.parseDouble(args[2]);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(args[0]);
    factory.setRequestedHeartbeat(0);
    String run = Long.toHexString(System.nanoTime());
    Connection consumerConnection = factory.newConnection("javaperf-consumer");
    Connection producerConnection = factory.newConnection("javaperf-producer");
    String exchange = s.queues > 1 ? "javaperf-fanout-" + run : "";
    List<String> queues = declare(consumerConnection, s, exchange, run);

    AtomicLong received = new AtomicLong();
    long[] latenciesUs = new long[s.ratePerSecond > 0 ? (int) (s.ratePerSecond * seconds * 1.2) + 1000 : 0];
    AtomicInteger latencyCount = new AtomicInteger();
    for (String queue : queues) consume(consumerConnection, queue, s, received, latenciesUs, latencyCount);

    Channel producer = producerConnection.createChannel();
    Semaphore window = s.confirmWindow > 0 ? new Semaphore(s.confirmWindow) : null;
    NavigableSet<Long> outstanding = new ConcurrentSkipListSet<>();
    if (window != null) {
      producer.confirmSelect();
      // One permit back per confirmed publish; "multiple" confirms every outstanding tag up to this one.
      ConfirmCallback settle = (tag, multiple) -> {
        if (!multiple) {
          if (outstanding.remove(tag)) window.release();
          return;
        }
        NavigableSet<Long> upTo = outstanding.headSet(tag, true);
        int count = 0;
        while (upTo.pollFirst() != null) count++;
        window.release(count);
      };
      producer.addConfirmListener(settle, settle);
    }
    String routingKey = s.queues > 1 ? "" : queues.get(0);
    AMQP.BasicProperties props = s.persistent ? MessageProperties.PERSISTENT_BASIC : MessageProperties.BASIC;
    long sent = 0;
    long start = System.nanoTime();
    long end = start + (long) (seconds * 1e9);
    long intervalNs = s.ratePerSecond > 0 ? 1_000_000_000L / s.ratePerSecond : 0;
    byte[] body = new byte[s.bodyBytes];
    while (true) {
      long now = System.nanoTime();
      if (now >= end) break;
      if (intervalNs > 0) {
        long due = start + sent * intervalNs;
        if (now < due) { sleepUntil(due); continue; }
      }
      if (window != null && !window.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
      if (window != null) outstanding.add(producer.getNextPublishSeqNo());
      ByteBuffer.wrap(body).putLong(0, System.nanoTime());
      producer.basicPublish(exchange, routingKey, props, body);
      sent++;
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long receivedAtEnd = received.get();
    producerConnection.close();
    // Let in-flight deliveries land before the queues go, so they do not count as lost in the next run.
    Thread.sleep(200);
    for (String queue : queues) {
      try (Channel c = consumerConnection.createChannel()) { c.queueDelete(queue); }
    }
    if (!exchange.isEmpty()) try (Channel c = consumerConnection.createChannel()) { c.exchangeDelete(exchange); }
    consumerConnection.close();
    System.out.println(json(args[1], elapsed, sent, receivedAtEnd, latenciesUs, latencyCount.get()));
  }

  static List<String> declare(Connection connection, Scenario s, String exchange, String run) throws Exception {
    List<String> queues = new ArrayList<>();
    try (Channel c = connection.createChannel()) {
      if (!exchange.isEmpty()) c.exchangeDeclare(exchange, BuiltinExchangeType.FANOUT, false, true, null);
      for (int i = 0; i < s.queues; i++) {
        String name = "javaperf-" + run + "-" + i;
        c.queueDeclare(name, s.persistent, false, false, null);
        if (!exchange.isEmpty()) c.queueBind(name, exchange, "");
        queues.add(name);
      }
    }
    return queues;
  }

  static void consume(Connection connection, String queue, Scenario s, AtomicLong received, long[] latenciesUs,
      AtomicInteger latencyCount) throws IOException {
    Channel channel = connection.createChannel();
    channel.basicQos(PREFETCH);
    channel.basicConsume(queue, s.autoAck, new DefaultConsumer(channel) {
      @Override
      public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties p, byte[] body) throws IOException {
        if (latenciesUs.length > 0) {
          int i = latencyCount.getAndIncrement();
          if (i < latenciesUs.length) latenciesUs[i] = (System.nanoTime() - ByteBuffer.wrap(body).getLong(0)) / 1000;
        }
        received.incrementAndGet();
        if (!s.autoAck) channel.basicAck(envelope.getDeliveryTag(), false);
      }
    });
  }

  static void sleepUntil(long dueNs) throws InterruptedException {
    long waitNs = dueNs - System.nanoTime();
    if (waitNs > 200_000) Thread.sleep(waitNs / 1_000_000, (int) (waitNs % 1_000_000));
    else Thread.onSpinWait();
  }

  static String json(String scenario, double elapsed, long sent, long received, long[] latenciesUs, int latencyCount) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "{\"scenario\":\"%s\",\"seconds\":%.3f,\"sent\":%d,\"received\":%d,"
        + "\"sentPerSecond\":%.1f,\"receivedPerSecond\":%.1f", scenario, elapsed, sent, received, sent / elapsed, received / elapsed));
    int n = Math.min(latencyCount, latenciesUs.length);
    if (n > 0) {
      long[] sorted = Arrays.copyOf(latenciesUs, n);
      Arrays.sort(sorted);
      out.append(String.format(Locale.ROOT, ",\"latencyMs\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
          sorted[n / 2] / 1000.0, sorted[(int) Math.min(n - 1, Math.floor(n * 0.99))] / 1000.0, sorted[n - 1] / 1000.0));
    }
    return out.append('}').toString();
  }
}
