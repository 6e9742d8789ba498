package io.github.lpfanout.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads one streaming HTTP response as it arrives, in pieces of any size, and reports its status
 * and each whole frame with the stamp at the start of the frame's body.
 *
 * <p>The body may be chunked or delimited by the end of the connection. Frames are {@code sse}
 * events or {@code bin} frames; heartbeats of either format are skipped. Only the response head
 * and a stamp's worth of each frame are ever kept, so that a connection costs a few dozen bytes
 * once its head is read. Not thread-safe: one reader per connection, fed by one thread.
 */
final class FrameReader {

  /** Told what the response brings, on the thread that feeds the reader. */
  interface Listener {
    /** The response head arrived with {@code status}. */
    void onStatus(int status);

    /** A whole frame arrived; {@code time} and {@code seq} are -1 if its body had no stamp. */
    void onFrame(long time, long seq);
  }

  private static final int HEAD = 0;
  private static final int CHUNK_SIZE = 1;
  private static final int CHUNK_DATA = 2;
  private static final int CHUNK_END = 3;
  private static final int UNTIL_CLOSE = 4;
  private static final int DONE = 5;

  private static final int LINE_UNDECIDED = 0;
  private static final int LINE_DATA = 1;
  private static final int LINE_OTHER = 2;
  private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);

  private static final int BIN_URL = 0;
  private static final int BIN_LENGTH = 1;
  private static final int BIN_BODY = 2;

  private static final int MAX_HEAD = 16 * 1024;

  private final boolean sse;
  private final Listener listener;

  private int state = HEAD;
  private byte[] head = new byte[512];
  private int headLength;
  private long chunkRemaining;
  private boolean chunkSizeDone;

  private final byte[] stamp = new byte[Stamp.LENGTH];
  private int stampLength;

  private int lineLength;
  private int lineKind;
  private boolean eventHasData;
  private boolean capturing;
  private boolean skipSpace;

  private int binState = BIN_URL;
  private int urlLength;
  private int lengthBytes;
  private long bodyLength;
  private long bodyRemaining;

  FrameReader(boolean sse, Listener listener) {
    this.sse = sse;
    this.listener = listener;
  }

  /** Whether the response ended: its last chunk arrived, or its status was not 200. */
  boolean ended() {
    return state == DONE;
  }

  /** Reads {@code length} more bytes of the response. */
  void read(byte[] bytes, int offset, int length) {
    int i = offset;
    int end = offset + length;
    while (i < end && state != DONE) {
      switch (state) {
        case HEAD -> i = readHead(bytes, i, end);
        case CHUNK_SIZE -> i = readChunkSize(bytes, i, end);
        case CHUNK_DATA -> {
          int n = (int) Math.min(chunkRemaining, end - i);
          frames(bytes, i, i + n);
          chunkRemaining -= n;
          i += n;
          if (chunkRemaining == 0) {
            state = CHUNK_END;
          }
        }
        case CHUNK_END -> {
          if (bytes[i++] == '\n') {
            state = CHUNK_SIZE;
          }
        }
        default -> {
          frames(bytes, i, end);
          i = end;
        }
      }
    }
  }

  private int readHead(byte[] bytes, int i, int end) {
    while (i < end) {
      if (headLength == head.length) {
        if (head.length >= MAX_HEAD) {
          throw new IllegalStateException("response head longer than " + MAX_HEAD + " bytes");
        }
        head = Arrays.copyOf(head, head.length * 2);
      }
      head[headLength++] = bytes[i++];
      if (headLength >= 4 && head[headLength - 1] == '\n' && head[headLength - 2] == '\r'
          && head[headLength - 3] == '\n' && head[headLength - 4] == '\r') {
        headRead();
        return i;
      }
    }
    return i;
  }

  private void headRead() {
    String text = new String(head, 0, headLength, StandardCharsets.ISO_8859_1);
    head = null;
    int status = -1;
    String[] statusLine = text.split(" ", 3);
    if (statusLine.length >= 2) {
      try {
        status = Integer.parseInt(statusLine[1].trim());
      } catch (NumberFormatException e) {
        status = -1;
      }
    }
    boolean chunked = text.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked");
    state = status != 200 ? DONE : chunked ? CHUNK_SIZE : UNTIL_CLOSE;
    listener.onStatus(status);
  }

  private int readChunkSize(byte[] bytes, int i, int end) {
    while (i < end) {
      byte c = bytes[i++];
      if (c == '\n') {
        chunkSizeDone = false;
        state = chunkRemaining == 0 ? DONE : CHUNK_DATA;
        return i;
      }
      int digit = Character.digit(c, 16);
      if (c == ';' || c == '\r' || digit < 0) {
        chunkSizeDone = true;
      } else if (!chunkSizeDone) {
        chunkRemaining = chunkRemaining * 16 + digit;
      }
    }
    return i;
  }

  private void frames(byte[] bytes, int from, int to) {
    if (sse) {
      sse(bytes, from, to);
    } else {
      bin(bytes, from, to);
    }
  }

  private void sse(byte[] bytes, int i, int end) {
    while (i < end) {
      byte c = bytes[i];
      if (c == '\n') {
        if (lineLength == 0) {
          if (eventHasData) {
            emit();
          }
          eventHasData = false;
        }
        lineLength = 0;
        lineKind = LINE_UNDECIDED;
        capturing = false;
        i++;
      } else if (c == '\r') {
        i++;
      } else if (lineKind == LINE_UNDECIDED) {
        if (c == DATA[lineLength]) {
          lineLength++;
          if (lineLength == DATA.length) {
            lineKind = LINE_DATA;
            capturing = !eventHasData;
            skipSpace = true;
            eventHasData = true;
          }
        } else {
          lineKind = LINE_OTHER;
          lineLength++;
        }
        i++;
      } else if (capturing) {
        if (!skipSpace || c != ' ') {
          stamp[stampLength++] = c;
          capturing = stampLength < Stamp.LENGTH;
        }
        skipSpace = false;
        lineLength++;
        i++;
      } else {
        int lineEnd = i;
        while (lineEnd < end && bytes[lineEnd] != '\n') {
          lineEnd++;
        }
        lineLength += lineEnd - i;
        i = lineEnd;
      }
    }
  }

  private void bin(byte[] bytes, int i, int end) {
    while (i < end) {
      switch (binState) {
        case BIN_URL -> {
          int lineEnd = i;
          while (lineEnd < end && bytes[lineEnd] != '\n') {
            lineEnd++;
          }
          urlLength += lineEnd - i;
          i = lineEnd;
          if (i < end) {
            i++;
            binState = BIN_LENGTH;
            lengthBytes = 0;
            bodyLength = 0;
          }
        }
        case BIN_LENGTH -> {
          bodyLength = (bodyLength << 8) | (bytes[i++] & 0xff);
          if (++lengthBytes == 4) {
            bodyRemaining = bodyLength;
            binState = BIN_BODY;
            if (bodyLength == 0) {
              binFrameEnd();
            }
          }
        }
        default -> {
          int n = (int) Math.min(bodyRemaining, end - i);
          int kept = Math.min(n, Stamp.LENGTH - stampLength);
          System.arraycopy(bytes, i, stamp, stampLength, kept);
          stampLength += kept;
          bodyRemaining -= n;
          i += n;
          if (bodyRemaining == 0) {
            binFrameEnd();
          }
        }
      }
    }
  }

  private void binFrameEnd() {
    if (urlLength > 0 || bodyLength > 0) {
      emit();
    }
    stampLength = 0;
    urlLength = 0;
    binState = BIN_URL;
  }

  private void emit() {
    long time = Stamp.time(stamp, 0, stampLength);
    long seq = time < 0 ? -1 : Stamp.seq(stamp, 0);
    stampLength = 0;
    listener.onFrame(time, seq);
  }
}
