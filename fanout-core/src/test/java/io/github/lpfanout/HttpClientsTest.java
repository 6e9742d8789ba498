package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/** The clients the library makes for itself when the caller passes none. */
class HttpClientsTest {

  @Test
  void callsRunOnVirtualThreadsFromJava21AndOnDaemonThreadsBefore() throws Exception {
    OkHttpClient client = HttpClients.create("fanout-test", Duration.ofSeconds(5));
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

      CompletableFuture<String> body = new CompletableFuture<>();
      recording.newCall(new Request.Builder().url(server.url("/")).build()).enqueue(
          new Callback() {
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

      assertEquals("ok", body.get(5, TimeUnit.SECONDS));
      Thread thread = caller.get(5, TimeUnit.SECONDS);
      assertTrue(thread.isDaemon());
      assertNull(thread.getContextClassLoader(), "a web application's loader would be pinned");
      assertEquals(Runtime.version().feature() >= 21, isVirtual(thread));
    } finally {
      HttpClients.shutdown(client);
    }
  }

  private static boolean isVirtual(Thread thread) throws ReflectiveOperationException {
    if (Runtime.version().feature() < 21) {
      return false;
    }
    return (boolean) Thread.class.getMethod("isVirtual").invoke(thread);
  }
}
