package dev.lattice.dataplane.proxy;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;

/**
 * A bound listener socket and the runtime new requests on it use. A config swap replaces
 * {@link #runtime} atomically; requests already running keep the runtime they started with.
 */
final class ListenerBinding {
  private volatile ListenerRuntime runtime;
  Channel serverChannel;

  ListenerBinding(ListenerRuntime runtime) {
    this.runtime = runtime;
  }

  ListenerRuntime runtime() {
    return runtime;
  }

  void runtime(ListenerRuntime r) {
    this.runtime = r;
  }

  InetSocketAddress boundAddress() {
    return serverChannel == null ? null : (InetSocketAddress) serverChannel.localAddress();
  }
}
