package io.github.lpfanout;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.MediaType;

/**
 * One upstream response body, or one published body, delivered to every subscriber of its URL.
 *
 * <p>A message a subscriber receives carries the {@link MessageId} its registry gave it. A message
 * made with the public constructor has none until a registry delivers it, which it does as a copy
 * with the id.
 *
 * <p>A message caches its encoded frames: each encoder encodes its body once, and its head once per
 * URL spelling, and every client that shares the encoder and the spelling is handed the same
 * {@link Frame}. The frames of different spellings share the one body. The id is part of the
 * message, so the cache holds for frames that carry it. Thread-safe.
 *
 * <p>Heads are cached for the first spellings only, up to {@value #MAX_CACHED_HEAD_BYTES} bytes
 * of heads per encoder: a message is kept for resuming long after its clients left, and clients
 * can invent spellings without end. A client whose spelling came later is handed a frame of its
 * own, a head encoded for it in front of the shared body.
 */
public final class Message {
  private final String canonicalUrl;
  private final byte[] body;
  private final String contentType;
  private final MessageId id;
  /** The most bytes of heads a message keeps per encoder. */
  static final int MAX_CACHED_HEAD_BYTES = 4096;

  private final ConcurrentHashMap<FrameEncoder, Encoded> frames = new ConcurrentHashMap<>();

  /**
   * Creates a message. The body array is owned by the message from here on: the caller must not
   * modify it.
   *
   * @param canonicalUrl the canonical URL the body came from
   * @param body the response body
   * @param contentType the response's {@code Content-Type}, or null if it had none
   */
  public Message(String canonicalUrl, byte[] body, String contentType) {
    this(canonicalUrl, body, contentType, null);
  }

  private Message(String canonicalUrl, byte[] body, String contentType, MessageId id) {
    this.canonicalUrl = Objects.requireNonNull(canonicalUrl, "canonicalUrl");
    this.body = Objects.requireNonNull(body, "body");
    this.contentType = contentType;
    this.id = id;
  }

  /** This message with {@code id}, sharing the body. Called by the registry as it delivers it. */
  Message withId(MessageId id) {
    return new Message(canonicalUrl, body, contentType, Objects.requireNonNull(id, "id"));
  }

  /** The id the registry gave this message, or null if no registry has delivered it. */
  public MessageId id() {
    return id;
  }

  /** The canonical URL the body came from. */
  public String canonicalUrl() {
    return canonicalUrl;
  }

  /** The body bytes. Shared, not copied: callers must not modify the array. */
  public byte[] body() {
    return body;
  }

  /** The upstream's {@code Content-Type}, or null if it sent none. */
  public String contentType() {
    return contentType;
  }

  /** The charset named by the content type, or UTF-8 if it names none or an unknown one. */
  public Charset charset() {
    MediaType type = contentType == null ? null : MediaType.parse(contentType);
    Charset charset = type == null ? null : type.charset(null);
    return charset == null ? StandardCharsets.UTF_8 : charset;
  }

  /**
   * Returns this message encoded by {@code encoder} for {@code spelling}, encoding it on the first
   * call and, while the heads cached for this encoder fit their budget, returning the same frame
   * afterwards.
   */
  public Frame frame(FrameEncoder encoder, String spelling) {
    // Called once per client for every message: a frame already encoded is found without
    // allocating, and only a miss pays for a lambda.
    Encoded encoded = frames.get(encoder);
    if (encoded == null) {
      encoded = frames.computeIfAbsent(encoder, key -> new Encoded(key.encodeBody(this)));
    }
    Frame frame = encoded.bySpelling.get(spelling);
    if (frame != null) {
      return frame;
    }
    Encoded shared = encoded;
    byte[][] uncached = new byte[1][];
    frame = shared.bySpelling.computeIfAbsent(spelling, key -> {
      byte[] head = encoder.encodeHead(key, this);
      if (shared.reserve(head.length)) {
        return Frame.of(head, shared.body);
      }
      uncached[0] = head;
      return null;
    });
    return frame != null ? frame : Frame.of(uncached[0], shared.body);
  }

  /** One encoder's shared body and its frames by spelling. */
  private static final class Encoded {
    final byte[] body;
    final ConcurrentHashMap<String, Frame> bySpelling = new ConcurrentHashMap<>(4);
    final AtomicInteger cachedHeadBytes = new AtomicInteger();

    Encoded(byte[] body) {
      this.body = body;
    }

    /** Counts a head of {@code length} bytes as cached, unless that would pass the budget. */
    boolean reserve(int length) {
      for (int now = cachedHeadBytes.get(); now + length <= MAX_CACHED_HEAD_BYTES;
          now = cachedHeadBytes.get()) {
        if (cachedHeadBytes.compareAndSet(now, now + length)) {
          return true;
        }
      }
      return false;
    }
  }

  @Override
  public String toString() {
    return "Message{" + (id == null ? "" : id + ", ") + canonicalUrl + ", " + body.length
        + " bytes}";
  }
}
