import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * RabbitMQ's official Java client against Warren. Usage: JavaCompatClient <amqp-url>.
 * Prints "ok <step>" per passed step; any failure throws, which exits non-zero with a stack trace.
 */
public final class JavaCompatClient {
  private static final int MESSAGES = 1000;
  private static final String PREFIX = "java-" + UUID.randomUUID().toString().substring(0, 8);

  public static void main(String[] args) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(args[0]);
    factory.setConnectionTimeout(5000);
    factory.setRequestedHeartbeat(5);
    factory.setAutomaticRecoveryEnabled(false);
    try (Connection connection = factory.newConnection("warren-compat")) {
      check(connection.getServerProperties().containsKey("capabilities"), "server capabilities missing");
      check(connection.getHeartbeat() == 5, "negotiated heartbeat " + connection.getHeartbeat());
      ok("connect", "frameMax=" + connection.getFrameMax());
      String queue = declare(connection);
      headers(connection, queue);
      publishConfirmed(connection, queue);
      consumeAll(connection, queue);
      largeMessage(connection, queue);
      cancelNotification(connection);
      channelError(connection);
      Channel cleanup = connection.createChannel();
      cleanup.queueDelete(queue);
      cleanup.exchangeDelete(PREFIX + ".x");
      cleanup.close();
    }
    ok("close", null);
  }

  private static String declare(Connection connection) throws IOException, java.util.concurrent.TimeoutException {
    Channel channel = connection.createChannel();
    String exchange = PREFIX + ".x";
    String queue = PREFIX + ".q";
    channel.exchangeDeclare(exchange, "direct", true);
    Map<String, Object> arguments = new HashMap<>();
    arguments.put("x-max-priority", 5);
    AMQP.Queue.DeclareOk declared = channel.queueDeclare(queue, true, false, false, arguments);
    check(declared.getQueue().equals(queue), "declared " + declared.getQueue());
    channel.queueBind(queue, exchange, "key");
    String serverNamed = channel.queueDeclare().getQueue();
    check(serverNamed.startsWith("amq.gen-"), "server-named queue " + serverNamed);
    channel.close();
    ok("declare", null);
    return queue;
  }

  /** Every Java type the client's ValueWriter maps to an AMQP field type, sent and read back. */
  private static void headers(Connection connection, String queue) throws Exception {
    Channel channel = connection.createChannel();
    Map<String, Object> headers = new HashMap<>();
    headers.put("string", "caf\u00e9");
    headers.put("int", 42);
    headers.put("long", 1L << 40);
    headers.put("short", (short) -3);
    headers.put("byte", (byte) 7);
    headers.put("bool", true);
    headers.put("double", 2.5d);
    headers.put("float", 1.25f);
    headers.put("decimal", new BigDecimal("12.34"));
    headers.put("timestamp", new Date(1_700_000_000_000L));
    headers.put("bytes", new byte[] {0, 1, 2, (byte) 255});
    headers.put("list", Arrays.asList(1, "two", 3.5d));
    Map<String, Object> nested = new HashMap<>();
    nested.put("inner", "value");
    headers.put("table", nested);
    headers.put("void", null);
    AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
        .contentType("text/plain").deliveryMode(2).priority(4).headers(headers)
        .correlationId("corr").messageId("id-1").timestamp(new Date(1_700_000_000_000L)).build();
    channel.basicPublish(PREFIX + ".x", "key", properties, "with headers".getBytes(StandardCharsets.UTF_8));
    GetResponse got = waitForGet(channel, queue);
    Map<String, Object> back = got.getProps().getHeaders();
    check(back.get("string").toString().equals("caf\u00e9"), "string header " + back.get("string"));
    check(back.get("string") instanceof LongString, "string header type");
    check(Integer.valueOf(42).equals(back.get("int")), "int header " + back.get("int"));
    check(Long.valueOf(1L << 40).equals(back.get("long")), "long header " + back.get("long"));
    check(Short.valueOf((short) -3).equals(back.get("short")), "short header " + back.get("short"));
    check(Byte.valueOf((byte) 7).equals(back.get("byte")), "byte header " + back.get("byte"));
    check(Boolean.TRUE.equals(back.get("bool")), "bool header");
    check(Double.valueOf(2.5d).equals(back.get("double")), "double header " + back.get("double"));
    check(Float.valueOf(1.25f).equals(back.get("float")), "float header " + back.get("float"));
    check(new BigDecimal("12.34").equals(back.get("decimal")), "decimal header " + back.get("decimal"));
    check(new Date(1_700_000_000_000L).equals(back.get("timestamp")), "timestamp header " + back.get("timestamp"));
    check(Arrays.equals(new byte[] {0, 1, 2, (byte) 255}, (byte[]) back.get("bytes")), "bytes header");
    List<?> list = (List<?>) back.get("list");
    check(list.size() == 3 && Integer.valueOf(1).equals(list.get(0)) && list.get(1).toString().equals("two")
        && Double.valueOf(3.5d).equals(list.get(2)), "list header " + list);
    check(((Map<?, ?>) back.get("table")).get("inner").toString().equals("value"), "table header");
    check(back.containsKey("void") && back.get("void") == null, "void header");
    check(got.getProps().getPriority() == 4, "priority");
    check(got.getProps().getTimestamp().equals(new Date(1_700_000_000_000L)), "timestamp property");
    check(new String(got.getBody(), StandardCharsets.UTF_8).equals("with headers"), "body");
    channel.basicAck(got.getEnvelope().getDeliveryTag(), false);
    channel.close();
    ok("headers", Integer.toString(headers.size()));
  }

  private static GetResponse waitForGet(Channel channel, String queue) throws Exception {
    for (int attempt = 0; attempt < 100; attempt++) {
      GetResponse response = channel.basicGet(queue, false);
      if (response != null) return response;
      Thread.sleep(20);
    }
    throw new AssertionError("no message on " + queue);
  }

  private static void publishConfirmed(Connection connection, String queue) throws Exception {
    Channel channel = connection.createChannel();
    channel.confirmSelect();
    for (int index = 0; index < MESSAGES; index++) {
      channel.basicPublish(PREFIX + ".x", "key", true, MessageProperties.PERSISTENT_BASIC,
          Integer.toString(index).getBytes(StandardCharsets.UTF_8));
    }
    channel.waitForConfirmsOrDie(10_000);
    check(channel.getNextPublishSeqNo() == MESSAGES + 1, "next publish seq no " + channel.getNextPublishSeqNo());
    long count = channel.messageCount(queue);
    check(count == MESSAGES, "messages in queue after confirms: " + count);
    channel.close();
    ok("confirm-publish", Integer.toString(MESSAGES));
  }

  private static void consumeAll(Connection connection, String queue) throws Exception {
    Channel channel = connection.createChannel();
    channel.basicQos(100);
    List<Integer> received = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    String tag = channel.basicConsume(queue, false, new DefaultConsumer(channel) {
      @Override
      public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
          throws IOException {
        received.add(Integer.parseInt(new String(body, StandardCharsets.UTF_8)));
        getChannel().basicAck(envelope.getDeliveryTag(), false);
        if (received.size() == MESSAGES) done.countDown();
      }
    });
    check(done.await(10, TimeUnit.SECONDS), "consumed " + received.size() + " of " + MESSAGES);
    channel.basicCancel(tag);
    for (int index = 0; index < MESSAGES; index++) {
      check(received.get(index) == index, "message " + index + " out of order: " + received.get(index));
    }
    check(channel.messageCount(queue) == 0, "queue drained");
    channel.close();
    ok("consume", Integer.toString(received.size()));
  }

  /** A body many frames long (frame_max is 128 KiB), split by the client and reassembled by Warren. */
  private static void largeMessage(Connection connection, String queue) throws Exception {
    Channel channel = connection.createChannel();
    byte[] body = new byte[3 * 1024 * 1024 + 17];
    for (int index = 0; index < body.length; index++) body[index] = (byte) (index * 31);
    channel.basicPublish("", queue, null, body);
    GetResponse got = waitForGet(channel, queue);
    check(Arrays.equals(body, got.getBody()), "large body differs (" + got.getBody().length + " bytes)");
    channel.basicAck(got.getEnvelope().getDeliveryTag(), false);
    channel.close();
    ok("large-message", Integer.toString(body.length));
  }

  /** consumer_cancel_notify: deleting a consumed queue reaches the consumer as handleCancel. */
  private static void cancelNotification(Connection connection) throws Exception {
    Channel channel = connection.createChannel();
    String queue = channel.queueDeclare(PREFIX + ".doomed", false, false, false, null).getQueue();
    CountDownLatch cancelled = new CountDownLatch(1);
    String tag = channel.basicConsume(queue, true, new DefaultConsumer(channel) {
      @Override
      public void handleCancel(String consumerTag) {
        cancelled.countDown();
      }
    });
    Channel other = connection.createChannel();
    other.queueDelete(queue);
    other.close();
    check(cancelled.await(5, TimeUnit.SECONDS), "no basic.cancel for consumer " + tag);
    check(channel.isOpen(), "channel still open after the server cancelled its consumer");
    channel.close();
    ok("cancel-notify", null);
  }

  private static void channelError(Connection connection) throws Exception {
    Channel channel = connection.createChannel();
    try {
      channel.queueDeclarePassive(PREFIX + ".missing");
      throw new AssertionError("passive declare of a missing queue succeeded");
    } catch (IOException error) {
      ShutdownSignalException cause = (ShutdownSignalException) error.getCause();
      AMQP.Channel.Close close = (AMQP.Channel.Close) cause.getReason();
      check(close.getReplyCode() == 404, "reply code " + close.getReplyCode());
    }
    check(!channel.isOpen(), "channel closed by the 404");
    check(connection.isOpen(), "connection survived");
    Channel again = connection.createChannel();
    again.queueDeclare("", false, true, true, null);
    again.close();
    ok("channel-error", null);
  }

  private static void check(boolean condition, String message) {
    if (!condition) throw new AssertionError(message);
  }

  private static void ok(String step, String detail) {
    System.out.println(detail == null ? "ok " + step : "ok " + step + " " + detail);
    System.out.flush();
  }
}
