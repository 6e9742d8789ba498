package io.github.lpfanout.bench;

import java.util.Set;

/** The baseline's process: a {@link BaselineServer} fed by the driver, under ServerControl. */
public final class BaselineMain {

  private BaselineMain() {}

  public static void main(String[] args) throws Exception {
    Flags flags = new Flags(args, Set.of("feed-port", "threads", "max-seconds"));
    BaselineServer server =
        new BaselineServer(flags.integer("threads", 1), flags.integer("feed-port", -1));
    ServerControl.serve(
        server.port(), server::clients, server::close, flags.integer("max-seconds", 1800));
  }
}
