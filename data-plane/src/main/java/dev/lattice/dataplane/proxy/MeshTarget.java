package dev.lattice.dataplane.proxy;

import java.net.InetSocketAddress;

/**
 * An upstream endpoint reached over the mesh's mTLS (Istio's ISTIO_MUTUAL): the proxy originates TLS
 * with the source workload's X.509-SVID and accepts the server only if its SVID chains to a trust bundle
 * and, when the config names one, carries {@code expectedPeer}. Also the key of the endpoint's pooled
 * connections, so a plaintext connection, or one made under another identity, is never reused for it.
 *
 * @param address      where to connect (the peer proxy's inbound mTLS listener)
 * @param node         the data-plane node hosting the endpoint (logs)
 * @param source       SPIFFE ID of the SVID to present; null = the node's only SVID (file mode)
 * @param expectedPeer SPIFFE ID the server must present; null = any SVID of a trust domain in the bundles
 */
record MeshTarget(InetSocketAddress address, String node, String source, String expectedPeer) {}
