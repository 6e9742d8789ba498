package io.github.lpfanout.webapp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.ScriptedUpstream;
import io.github.lpfanout.testing.SseRecorder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;

/**
 * Deploys the packaged WAR, as the build made it, into a Tomcat with its own web application
 * class loader, as a standalone container would: the servlet, the library and OkHttp are loaded
 * from {@code WEB-INF/lib}.
 */
class WebappDeploymentIT {

  @Test
  void packagedWarDeploysUnchangedStreamsAndStopsItsThreadsWithTheApplication() throws Exception {
    Path war = Path.of(System.getProperty("fanout.webapp.war", "target/fanout-webapp.war"));
    Path baseDir = Files.createTempDirectory("tomcat-webapp");
    List<String> leakWarnings = new CopyOnWriteArrayList<>();
    Logger loaderLog = Logger.getLogger("org.apache.catalina.loader.WebappClassLoaderBase");
    Handler recorder = new Handler() {
      @Override
      public void publish(LogRecord record) {
        String message = String.valueOf(record.getMessage());
        int named = message.indexOf("thread named [");
        if (record.getLevel().intValue() >= Level.WARNING.intValue() && named >= 0) {
          int start = named + "thread named [".length();
          leakWarnings.add(message.substring(start, message.indexOf(']', start)));
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    loaderLog.addHandler(recorder);

    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    connector.setProperty("address", "127.0.0.1");
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);
    tomcat.setAddDefaultWebXmlToWebapp(false);
    Files.createDirectories(baseDir.resolve("webapps"));
    Context context = tomcat.addWebapp("/fanout-webapp", war.toAbsolutePath().toString());
    OkHttpClient client = new OkHttpClient();

    try (ScriptedUpstream upstream = new ScriptedUpstream()) {
      tomcat.start();
      assertEquals(LifecycleState.STARTED, context.getState());
      String url = upstream.url("/news");
      String base = "http://127.0.0.1:" + connector.getLocalPort() + "/fanout-webapp/fanout";

      try (SseRecorder stream = SseRecorder.connect(client, base + "/sse/" + url)) {
        upstream.answer("/news", "deployed");
        assertEquals(new SseRecorder.Event(url, "deployed", null), stream.next());
      }

      Set<Thread> before = Thread.getAllStackTraces().keySet();
      tomcat.stop();
      tomcat.destroy();
      Await.until("the fanout's threads to end", Duration.ofSeconds(5),
          () -> Thread.getAllStackTraces().keySet().stream()
              .filter(thread -> thread.isAlive() && before.contains(thread))
              .noneMatch(thread -> thread.getName().startsWith("fanout-")));
      System.out.println("Tomcat's warnings about threads left running: " + leakWarnings);
    } finally {
      loaderLog.removeHandler(recorder);
      client.dispatcher().executorService().shutdownNow();
      client.connectionPool().evictAll();
    }
  }
}
