package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/** The clients the library makes for itself when the caller passes none. */
class HttpClientsTest {

  @Test
  void callsRunOnVirtualThreadsFromJava21AndOnDaemonThreadsBefore() throws Exception {
    OkHttpClient client = HttpClients.create("fanout-test", Duration.ofSeconds(5), 8);
    try (MockWebServer server = new MockWebServer()) {
      server.enqueue(new MockResponse.Builder().body("ok").build());
      server.start(InetAddress.getByName("127.0.0.1"), 0);
      CompletableFuture<Thread> caller = new CompletableFuture<>();
      OkHttpClient recording = client.newBuilder()
          .addInterceptor(chain -> {
            caller.complete(Thread.currentThread());
            return chain.proceed(chain.request());
          })
          .build();

      CompletableFuture<String> body = call(recording, server.url("/"));

      assertEquals("ok", body.get(5, TimeUnit.SECONDS));
      Thread thread = caller.get(5, TimeUnit.SECONDS);
      assertTrue(thread.isDaemon());
      assertNull(thread.getContextClassLoader(), "a web application's loader would be pinned");
      assertEquals(Runtime.version().feature() >= 21, isVirtual(thread));
    } finally {
      HttpClients.shutdown(client);
    }
  }

  @Test
  void aBurstOfCallsAtOnceLeavesItsConnectionsOpenForTheNextBurst() throws Exception {
    int burst = 20;
    OkHttpClient client = HttpClients.create("fanout-test", Duration.ofSeconds(5), burst);
    Set<Integer> connections = ConcurrentHashMap.newKeySet();
    AtomicReference<CountDownLatch> arrived = new AtomicReference<>();
    try (MockWebServer server = new MockWebServer()) {
      // Each answer waits until the whole burst has arrived, so the calls overlap.
      server.setDispatcher(new Dispatcher() {
        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
          connections.add(request.getConnectionIndex());
          CountDownLatch latch = arrived.get();
          latch.countDown();
          latch.await(5, TimeUnit.SECONDS);
          return new MockResponse.Builder().body("ok").build();
        }
      });
      server.start(InetAddress.getByName("127.0.0.1"), 0);

      for (int round = 0; round < 2; round++) {
        arrived.set(new CountDownLatch(burst));
        List<CompletableFuture<String>> bodies = new ArrayList<>();
        for (int i = 0; i < burst; i++) {
          bodies.add(call(client, server.url("/")));
        }
        for (CompletableFuture<String> body : bodies) {
          assertEquals("ok", body.get(10, TimeUnit.SECONDS));
        }
      }

      assertEquals(burst, connections.size(), "connections opened for two bursts of " + burst);
    } finally {
      HttpClients.shutdown(client);
    }
  }

  private static CompletableFuture<String> call(OkHttpClient client, HttpUrl url) {
    CompletableFuture<String> body = new CompletableFuture<>();
    client.newCall(new Request.Builder().url(url).build()).enqueue(new Callback() {
      @Override
      public void onResponse(Call call, Response response) throws IOException {
        try (response) {
          body.complete(response.body().string());
        }
      }

      @Override
      public void onFailure(Call call, IOException e) {
        body.completeExceptionally(e);
      }
    });
    return body;
  }

  private static boolean isVirtual(Thread thread) throws ReflectiveOperationException {
    if (Runtime.version().feature() < 21) {
      return false;
    }
    return (boolean) Thread.class.getMethod("isVirtual").invoke(thread);
  }
}
